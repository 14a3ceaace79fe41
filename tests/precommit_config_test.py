"""``.pre-commit-config.yaml`` validation: every bad key is exit 2 with one line naming
the file, the hook and the key; and the pure ordering of hooks."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from huskycat.precommit.config import PreCommitConfigError, load_config, read_yaml
from huskycat.precommit.plan import order
from huskycat.precommit.repos import Hook, unique_names

LOCAL = """\
repos:
-   repo: local
    hooks:
    -   id: one
        name: one
        entry: "true"
        language: system
{extra}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ("        filez: x", "repos[0] (local).hooks[0] (one).filez", "unknown key 'filez'"),
        ("        files: '['", "repos[0] (local).hooks[0] (one).files", "invalid regular"),
        ("        types: [pyton]", "repos[0] (local).hooks[0] (one).types", "'pyton'"),
        ("        pass_filenames: 3", "(one).pass_filenames", "expected true or false"),
        ("        stages: [precommit]", "(one).stages", "unknown stage 'precommit'"),
        ("        args: x", "(one).args", "expected a list of strings"),
        ("        minimum_pre_commit_version: '99'", "(one).minimum_pre_commit_version", "99"),
        ("        log_file: 3", "(one).log_file", "expected a string"),
    ],
)
def test_bad_hook_key_names_file_hook_and_key(
    tmp_path: Path, extra: str, key: str, words: str
) -> None:
    path = _write(tmp_path, LOCAL.format(extra=extra))
    with pytest.raises(PreCommitConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert ".pre-commit-config.yaml" in message and key in message and words in message
    assert "\n" not in message


def _huskycat(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "huskycat", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_other_language_is_exit_2_naming_hook_and_language(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path, LOCAL.format(extra="").replace("system", "rust"))
    (tmp_path / "a.txt").write_text("x\n")
    proc = _huskycat(tmp_path, "run", "--no-progress")
    assert proc.returncode == 2
    assert "repos[0].hooks[0] (one).language: language 'rust' is not supported" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_a_pygrep_entry_that_is_no_regular_expression_is_exit_2_naming_it(
    tmp_path: Path,
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    text = LOCAL.format(extra="").replace('"true"', "'print\\\\(x'").replace("system", "pygrep")
    _write(tmp_path, text)
    (tmp_path / "a.txt").write_text("x\n")
    proc = _huskycat(tmp_path, "run", "--no-progress")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "repos[0].hooks[0] (one).entry: 'print" in proc.stderr
    assert "is not a regular expression: missing ), unterminated subpattern" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stdout


def test_other_language_in_a_stage_that_does_not_run_is_fine(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    extra = "    -   id: two\n        name: two\n        entry: x\n        language: node\n"
    extra += "        stages: [manual]"
    _write(tmp_path, LOCAL.format(extra=extra))
    (tmp_path / "a.txt").write_text("x\n")
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    proc = _huskycat(tmp_path, "run", "--no-progress", "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr


def test_skip_variable_skips_hooks_by_id(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path, LOCAL.format(extra="").replace('"true"', '"false"'))
    (tmp_path / "a.txt").write_text("x\n")
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    assert _huskycat(tmp_path, "run", "--no-progress").returncode == 1
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--no-progress", "--json", "r.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SKIP": "one"},
    )
    assert proc.returncode == 0
    (result,) = json.loads((tmp_path / "r.json").read_text())["results"]
    assert result["status"] == "skipped" and result["error_message"] == "SKIP names it"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("repos: 3\n", "repos: expected a list"),
        ("fail_fast: 'no'\nrepos: []\n", "expected true or false"),
        ("files: '('\nrepos: []\n", "files: invalid regular expression"),
        ("reps: []\n", "unknown key 'reps'; did you mean 'repos'"),
        ("repos:\n- repo: https://x\n  hooks: []\n", "repos[0] (https://x).rev: missing"),
        ("repos:\n- repo: local\n  hooks:\n  - id: a\n", "(a).name: missing required key"),
        ("repos:\n- repo: meta\n  hooks:\n  - id: nope\n", "unknown meta hook 'nope'"),
        ("repos: [\n", "invalid YAML"),
        ("repos:\n- repo: x\n  rev: --upload-pack=y\n  hooks: []\n", "(x).rev: expected a tag"),
        ("repos:\n- repo: -x\n  rev: v1\n  hooks: []\n", "cannot start with '-'"),
    ],
)
def test_bad_top_level_and_repo_keys(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(PreCommitConfigError) as caught:
        load_config(_write(tmp_path, text))
    assert words in str(caught.value)


def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path, LOCAL.format(extra="        verbos: true"))
    proc = subprocess.run(
        [sys.executable, "-m", "huskycat", "run", "--no-progress"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "repos[0] (local).hooks[0] (one).verbos: unknown key 'verbos'" in proc.stderr


def _hook(
    hook_id: str, *, read_only: bool = False, fail_fast: bool = False, own: bool = True
) -> Hook:
    return Hook(
        id=hook_id,
        name=hook_id,
        entry="x",
        language="unsupported",
        alias="",
        args=(),
        files="",
        exclude="^$",
        types=frozenset({"file"}),
        types_or=frozenset(),
        exclude_types=frozenset(),
        additional_dependencies=(),
        always_run=False,
        fail_fast=fail_fast,
        pass_filenames=True,
        require_serial=False,
        stages=("pre-commit",),
        verbose=False,
        log_file="",
        language_version="default",
        read_only=read_only,
        repo="local",
        rev=None,
        prefix=Path("."),
        where="repos[0].hooks[0]",
        own_files_only=own,
    )


def test_overlapping_writers_in_order_disjoint_and_read_only_hooks_free() -> None:
    hooks = [
        ("fmt-py", _hook("fmt-py"), {"a.py", "b.py"}),
        ("fmt-yaml", _hook("fmt-yaml"), {"c.yaml"}),
        ("lint-py", _hook("lint-py"), {"a.py"}),
        ("check-a", _hook("check-a", read_only=True), {"a.py", "c.yaml"}),
        ("check-b", _hook("check-b", read_only=True), {"a.py"}),
        ("whole", _hook("whole"), None),
    ]
    requires, after = order(hooks, fail_fast=False)
    assert after["fmt-yaml"] == ()  # disjoint from fmt-py
    assert after["lint-py"] == ("fmt-py",)
    assert after["check-a"] == ("fmt-py", "fmt-yaml", "lint-py")
    assert after["check-b"] == ("fmt-py", "lint-py")  # not after the other read-only hook
    assert after["whole"] == ("check-a", "check-b", "fmt-py", "fmt-yaml", "lint-py")
    assert all(r == () for r in requires.values())


def test_a_hook_that_may_write_anywhere_runs_alone() -> None:
    hooks = [
        ("fmt-py", _hook("fmt-py"), {"a.py"}),
        ("anywhere", _hook("anywhere", own=False), {"b.py"}),
        ("check", _hook("check", read_only=True), {"c.py"}),
        ("fmt-yaml", _hook("fmt-yaml"), {"c.yaml"}),
    ]
    _, after = order(hooks, fail_fast=False)
    assert after["anywhere"] == ("fmt-py",)  # disjoint files, but it could write a.py
    assert after["check"] == ("anywhere",)  # read-only, still not beside it
    assert after["fmt-yaml"] == ("anywhere",)


def test_fail_fast_makes_later_hooks_require_the_earlier() -> None:
    hooks = [
        ("a", _hook("a", fail_fast=True), {"x"}),
        ("b", _hook("b"), {"y"}),
        ("c", _hook("c"), {"z"}),
    ]
    requires, _ = order(hooks, fail_fast=False)
    assert requires == {"a": (), "b": ("a",), "c": ("a",)}
    requires, _ = order(hooks, fail_fast=True)
    assert requires["c"] == ("a", "b")


def test_repeated_ids_get_an_occurrence_suffix() -> None:
    hooks = [_hook("x"), _hook("y"), _hook("x"), _hook("x")]
    assert unique_names(hooks) == ["x", "y", "x#2", "x#3"]


def test_yaml_is_remembered_by_its_text_only_when_json_holds_it_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "c.yaml"
    path.write_text("a: [1, 2.0, true, null]\nb: {c: x}\n")
    first = read_yaml(path)
    assert first == read_yaml(path) == {"a": [1, 2.0, True, None], "b": {"c": "x"}}
    assert [type(v) for v in read_yaml(path)["a"]] == [int, float, bool, type(None)]
    stored = list((tmp_path / "cache" / "huskycat" / "yaml").iterdir())
    assert len(stored) == 1
    path.write_text("a: [3]\n")  # another text: parsed again
    assert read_yaml(path) == {"a": [3]}
    path.write_text("1: 2\nd: 2001-01-01\n")  # not JSON's: parsed every time, kept as is
    assert read_yaml(path) == read_yaml(path) == {1: 2, "d": datetime.date(2001, 1, 1)}
    assert len(list(stored[0].parent.iterdir())) == 2
