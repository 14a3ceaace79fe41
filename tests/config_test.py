from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from huskycat.config import (
    CONFIG_FILES,
    TOOL_KEYS,
    Config,
    ConfigError,
    ToolConfig,
    find_cycle,
    load_config,
)

CATALOG = ("black", "mypy", "ruff", "yamllint")


def _load(root: Path, text: str, name: str = "huskycat.toml", **kwargs: object) -> Config:
    (root / name).write_text(text, encoding="utf-8")
    return load_config(root, known_tools=CATALOG, **kwargs)  # type: ignore[arg-type]


def _error(root: Path, text: str, name: str = "huskycat.toml", **kwargs: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(root, text, name, **kwargs)
    return info.value


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages name the file relative to the working folder.
    monkeypatch.chdir(tmp_path)


# where the configuration comes from


def test_no_file_gives_every_default(tmp_path: Path) -> None:
    config = load_config(tmp_path, known_tools=CATALOG)
    assert config == Config()
    assert config.source is None
    assert config.jobs is None and config.timeout is None and config.fail_fast is False
    assert config.tool("mypy") == ToolConfig()
    assert config.is_enabled("mypy")


def test_pyproject_without_a_huskycat_table_does_not_count(tmp_path: Path) -> None:
    config = _load(tmp_path, '[project]\nname = "x"\n[tool.black]\n', "pyproject.toml")
    assert config == Config()


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    config = _load(tmp_path, "[tool.huskycat]\njobs = 3\n", "pyproject.toml")
    assert config.source == tmp_path / "pyproject.toml"
    assert config.jobs == 3


def test_huskycat_toml_wins_over_dot_file_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.huskycat]\njobs = 1\n")
    (tmp_path / ".huskycat.toml").write_text("jobs = 2\n")
    assert _load(tmp_path, "jobs = 3\n").jobs == 3
    (tmp_path / "huskycat.toml").unlink()
    config = load_config(tmp_path, known_tools=CATALOG)
    assert (config.jobs, config.source) == (2, tmp_path / ".huskycat.toml")
    (tmp_path / ".huskycat.toml").unlink()
    assert load_config(tmp_path, known_tools=CATALOG).jobs == 1
    assert CONFIG_FILES == ("huskycat.toml", ".huskycat.toml", "pyproject.toml")


def test_an_empty_huskycat_toml_counts_and_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.huskycat]\njobs = 1\n")
    config = _load(tmp_path, "")
    assert config.source == tmp_path / "huskycat.toml"
    assert config.jobs is None


def test_a_file_that_wins_is_the_only_one_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("this is not toml")
    assert _load(tmp_path, "jobs = 2\n").jobs == 2


# every key, valid

FULL = """\
jobs = 8
timeout = 120
fail_fast = true
exclude = ["vendor/**", "*.min.js"]
disable = ["yamllint"]

[tools.mypy]
args = ["--strict", ""]
depends_on = ["black"]
after = ["ruff"]
timeout = 2.5
weight = 2
files = ["src/**"]
exclude = ["tests/**"]
types = ["python", "pyi"]
pass_filenames = false
enabled = true

[tools.black]
command = ["black", "--check", "."]
fix = "black ."

[tools.shellcheck-all]
command = "sh -c 'shellcheck *.sh'"
fix = ["true"]
"""


def test_every_key_is_read(tmp_path: Path) -> None:
    config = _load(tmp_path, FULL)
    assert config.jobs == 8
    assert config.timeout == 120.0 and isinstance(config.timeout, float)
    assert config.fail_fast is True
    assert config.exclude == ("vendor/**", "*.min.js")
    assert config.disable == frozenset({"yamllint"})
    assert config.custom_tools == ("shellcheck-all",)
    assert config.tool("mypy") == ToolConfig(
        args=("--strict", ""),
        depends_on=("black",),
        after=("ruff",),
        timeout=2.5,
        weight=2,
        files=("src/**",),
        exclude=("tests/**",),
        types=frozenset({"python", "pyi"}),
        pass_filenames=False,
        enabled=True,
    )
    assert config.tool("black") == ToolConfig(command=("black", "--check", "."), fix=("black", "."))
    assert config.tool("shellcheck-all").command == ("sh", "-c", "shellcheck *.sh")
    assert config.tool("shellcheck-all").fix == ("true",)
    assert config.tool("ruff") == ToolConfig()


def test_tool_keys_are_the_documented_ones() -> None:
    assert set(TOOL_KEYS) == {
        "args", "command", "depends_on", "after", "timeout", "weight", "files", "exclude",
        "types", "pass_filenames", "fix", "enabled", "fail_on", "version", "inputs", "env",
        "cache",
    }  # fmt: skip


def test_disabled_tools_are_not_enabled(tmp_path: Path) -> None:
    config = _load(tmp_path, 'disable = ["ruff"]\n[tools.black]\nenabled = false\n')
    assert not config.is_enabled("ruff")
    assert not config.is_enabled("black")
    assert config.is_enabled("mypy")


def test_custom_tools_may_be_dependencies(tmp_path: Path) -> None:
    text = '[tools.gen]\ncommand = "make gen"\n[tools.mypy]\ndepends_on = ["gen"]\n'
    assert _load(tmp_path, text).tool("mypy").depends_on == ("gen",)


def test_integer_timeout_is_a_float(tmp_path: Path) -> None:
    assert _load(tmp_path, "[tools.mypy]\ntimeout = 7\n").tool("mypy").timeout == 7.0


# every key, invalid: (file text, dotted key, part of the message)

INVALID = [
    ("jobs = 0", "jobs", "expected an integer from 1 to 1024, got 0"),
    ("jobs = -2", "jobs", "expected an integer from 1 to 1024, got -2"),
    ("jobs = true", "jobs", "expected an integer from 1 to 1024, got True (a boolean)"),
    ("jobs = 2.0", "jobs", "expected an integer from 1 to 1024, got 2.0"),
    ('jobs = "4"', "jobs", "expected an integer from 1 to 1024, got '4'"),
    ("timeout = 0", "timeout", "expected seconds from 0.001 to 604800 (a week), got 0"),
    ("timeout = -1.5", "timeout", "expected seconds from 0.001 to 604800 (a week), got -1.5"),
    ("timeout = nan", "timeout", "got nan"),
    ("timeout = inf", "timeout", "got inf"),
    ("timeout = false", "timeout", "got False (a boolean)"),
    ('timeout = "10s"', "timeout", "got '10s'"),
    ("fail_fast = 1", "fail_fast", "expected true or false, got 1"),
    ('fail_fast = "yes"', "fail_fast", "expected true or false, got 'yes'"),
    ('exclude = "vendor"', "exclude", "expected a list of globs, got 'vendor'"),
    ("exclude = [1]", "exclude", "expected a list of globs, got [1]"),
    ('exclude = [""]', "exclude", "expected a list of non-empty globs, got ['']"),
    ('disable = "ruff"', "disable", "expected a list of tool names, got 'ruff'"),
    ('disable = ["rufff"]', "disable", "unknown tool 'rufff'; did you mean 'ruff'?"),
    ('disable = ["zzz"]', "disable", "unknown tool 'zzz'"),
    ("tools = 1", "tools", "expected a table, got 1"),
    ("[tools]\nmypy = 1", "tools.mypy", "expected a table, got 1"),
    ("jbos = 1", "jbos", "unknown key 'jbos'; did you mean 'jobs'?"),
    ("zzz = 1", "zzz", "unknown key 'zzz'; expected one of jobs, timeout, fail_fast"),
    ("[tools.mypy]\ntimout = 1", "tools.mypy.timout", "unknown key 'timout'; did you mean"),
    ("[tools.mypy]\nzzz = 1", "tools.mypy.zzz", "unknown key 'zzz'; expected one of args,"),
    ('[tools.mypy]\nargs = "--strict"', "tools.mypy.args", "expected a list of strings"),
    ("[tools.mypy]\nargs = [1]", "tools.mypy.args", "got [1]"),
    ("[tools.mypy]\ncommand = []", "tools.mypy.command", "expected a non-empty command, got []"),
    ('[tools.mypy]\ncommand = ""', "tools.mypy.command", "expected a non-empty command, got ''"),
    ('[tools.mypy]\ncommand = "  "', "tools.mypy.command", "non-empty command, got '  '"),
    ('[tools.mypy]\ncommand = [""]', "tools.mypy.command", "non-empty command, got ['']"),
    ("[tools.mypy]\ncommand = 3", "tools.mypy.command", "as a list of strings or a string"),
    (
        '[tools.mypy]\ncommand = "mypy \'src"',
        "tools.mypy.command",
        'cannot split "mypy \'src" into arguments: No closing quotation',
    ),
    ("[tools.mypy]\nfix = []", "tools.mypy.fix", "expected a non-empty command"),
    ("[tools.mypy]\nfix = true", "tools.mypy.fix", "got True (a boolean)"),
    ('[tools.mypy]\ndepends_on = "black"', "tools.mypy.depends_on", "list of tool names"),
    ('[tools.mypy]\ndepends_on = ["blak"]', "tools.mypy.depends_on", "did you mean 'black'?"),
    ('[tools.mypy]\nafter = ["nope"]', "tools.mypy.after", "unknown tool 'nope'"),
    ("[tools.mypy]\ntimeout = 0", "tools.mypy.timeout", "(a week), got 0"),
    ("[tools.mypy]\ntimeout = true", "tools.mypy.timeout", "got True (a boolean)"),
    ("[tools.mypy]\nweight = 0", "tools.mypy.weight", "expected an integer from 1 to 1024, got 0"),
    ("[tools.mypy]\nweight = true", "tools.mypy.weight", "got True (a boolean)"),
    ("[tools.mypy]\nweight = 1.5", "tools.mypy.weight", "got 1.5"),
    ('[tools.mypy]\nfiles = "src"', "tools.mypy.files", "expected a list of globs"),
    ('[tools.mypy]\nfiles = [""]', "tools.mypy.files", "non-empty globs"),
    ("[tools.mypy]\nexclude = [2]", "tools.mypy.exclude", "expected a list of globs, got [2]"),
    ('[tools.mypy]\ntypes = "python"', "tools.mypy.types", "expected a list of identify tags"),
    (
        '[tools.mypy]\ntypes = ["python", "pythn"]',
        "tools.mypy.types",
        "unknown file type 'pythn'; did you mean 'python'? (types are identify tags)",
    ),
    ('[tools.mypy]\npass_filenames = "no"', "tools.mypy.pass_filenames", "true or false"),
    ("[tools.mypy]\nenabled = 0", "tools.mypy.enabled", "expected true or false, got 0"),
    ('[tools.mypy]\ninputs = "src"', "tools.mypy.inputs", "expected a list of globs"),
    ('[tools.mypy]\ninputs = [""]', "tools.mypy.inputs", "non-empty globs"),
    ('[tools.mypy]\nenv = "X"', "tools.mypy.env", "expected a list of environment variable"),
    (
        '[tools.mypy]\nenv = ["OK_*", "1X"]',
        "tools.mypy.env",
        "invalid environment variable name '1X'",
    ),
    ('[tools.mypy]\ncache = "no"', "tools.mypy.cache", "expected true or false, got 'no'"),
    (
        '[tools.mpy]\nargs = ["x"]',
        "tools.mpy",
        "'mpy' is not a catalog tool, so it needs a 'command' to run; did you mean 'mypy'?",
    ),
    ('[tools."my tool"]\ncommand = "x"', 'tools."my tool"', "invalid tool name 'my tool'"),
    ('[tools."-x"]\ncommand = "x"', "tools.-x", "invalid tool name '-x'"),
    (
        'disable = ["mypy"]\n[tools.mypy]\nenabled = true',
        "tools.mypy.enabled",
        "'mypy' is also listed in disable",
    ),
]


@pytest.mark.parametrize(("text", "key", "message"), INVALID, ids=[i[1] for i in INVALID])
def test_invalid_value_names_file_key_and_value(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    error = _error(tmp_path, text + "\n")
    assert error.key == key
    assert str(error).startswith(f"huskycat.toml: {key}: ")
    assert message in str(error)


@pytest.mark.parametrize(("text", "key", "message"), INVALID[::6], ids=[i[1] for i in INVALID[::6]])
def test_invalid_value_in_pyproject_has_the_full_dotted_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    text = text.replace("[tools", "[tool.huskycat.tools")
    if not text.startswith("["):
        text = "[tool.huskycat]\n" + text
    error = _error(tmp_path, text + "\n", "pyproject.toml")
    assert str(error).startswith(f"pyproject.toml: tool.huskycat.{key}: ")
    assert message in str(error)


def test_error_message_is_one_exact_line(tmp_path: Path) -> None:
    error = _error(tmp_path, "[tool.huskycat.tools.mypy]\ntimeout = -1\n", "pyproject.toml")
    assert str(error) == (
        "pyproject.toml: tool.huskycat.tools.mypy.timeout: expected seconds from 0.001 to"
        " 604800 (a week), got -1"
    )


def test_error_outside_the_working_folder_names_the_full_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    error = _error(tmp_path, "jobs = 0\n")
    assert str(error).startswith(f"{tmp_path / 'huskycat.toml'}: jobs: ")


def test_huskycat_table_that_is_not_a_table(tmp_path: Path) -> None:
    error = _error(tmp_path, "[tool]\nhuskycat = 3\n", "pyproject.toml")
    assert str(error) == "pyproject.toml: tool.huskycat: expected a table, got 3"


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    error = _error(tmp_path, "jobs = 2\n\n[tools.mypy\n")
    assert error.line == 3
    assert str(error).startswith("huskycat.toml:3: invalid TOML: ")
    assert "line 3" in str(error)


def test_syntax_error_in_pyproject(tmp_path: Path) -> None:
    error = _error(tmp_path, '[project]\nname = "x\n', "pyproject.toml")
    assert str(error).startswith("pyproject.toml:2: invalid TOML: ")


def test_non_utf8_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "huskycat.toml").write_bytes(b"jobs = 1 # \xff\n")
    with pytest.raises(ConfigError, match="huskycat.toml.*invalid TOML"):
        load_config(tmp_path, known_tools=CATALOG)


def test_unreadable_config_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "huskycat.toml").mkdir()
    (tmp_path / ".huskycat.toml").write_text("jobs = 1\n")
    # A folder named huskycat.toml is not a file: the next one applies.
    assert load_config(tmp_path, known_tools=CATALOG).jobs == 1


# dependency cycles


def test_find_cycle_reads_in_dependency_order() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    cycle = find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]})
    assert cycle is not None
    assert cycle[0] == cycle[-1] and len(cycle) == 4
    for tool, dependency in itertools.pairwise(cycle):
        assert dependency in {"a": ["b"], "b": ["c"], "c": ["a"]}[tool]


def test_cycle_in_the_file(tmp_path: Path) -> None:
    text = (
        '[tool.huskycat.tools.black]\ndepends_on = ["mypy"]\n'
        '[tool.huskycat.tools.mypy]\nafter = ["black"]\n'
    )
    error = _error(tmp_path, text, "pyproject.toml")
    assert str(error) == (
        "pyproject.toml: tool.huskycat.tools.black.depends_on: dependency cycle "
        "black -> mypy -> black"
    )


def test_cycle_through_a_default_edge(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        '[tools.black]\ndepends_on = ["mypy"]\n',
        default_edges={"mypy": ["ruff"], "ruff": ["black"]},
    )
    assert str(error) == (
        "huskycat.toml: tools.black.depends_on: dependency cycle black -> mypy -> ruff -> black"
    )


def test_self_dependency_is_a_cycle(tmp_path: Path) -> None:
    error = _error(tmp_path, '[tools.mypy]\nafter = ["mypy"]\n')
    assert str(error) == "huskycat.toml: tools.mypy.after: dependency cycle mypy -> mypy"


def test_cycle_among_custom_tools(tmp_path: Path) -> None:
    text = (
        '[tools.a]\ncommand = "a"\ndepends_on = ["b"]\n'
        '[tools.b]\ncommand = "b"\ndepends_on = ["a"]\n'
    )
    assert "dependency cycle" in str(_error(tmp_path, text))


def test_default_edges_without_a_cycle_pass(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[tools.mypy]\ndepends_on = ["black"]\n',
        default_edges={"mypy": ["ruff"], "ruff": ["black"], "black": []},
    )
    assert config.tool("mypy").depends_on == ("black",)
