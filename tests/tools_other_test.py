"""The non-Python tools, run for real on files in a temporary folder.

yamllint, taplo, shellcheck, hadolint, ansible-lint and check-jsonschema are the real
programs. helm and a Chapel formatter cannot be installed here: they are stand-ins,
small Python scripts put first on PATH that print what the real tools print (helm's
``lint`` format is taken from its source, pkg/cmd/lint.go and
pkg/lint/support/message.go). Each tool runs the way the runner runs it: its argv,
the files, ``process.run`` in the folder, the output handed to ``spec.parse``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from identify import identify

from huskycat.core import process
from huskycat.tools import (
    ansible_lint,
    chapel_format,
    gitlab_ci,
    hadolint,
    helm_lint,
    shellcheck,
    taplo,
    yamllint,
)
from huskycat.tools.base import ParseResult, ToolOutput, ToolSpec
from huskycat.tools.programs import build_argv


def run_spec(
    spec: ToolSpec,
    files: Sequence[str],
    cwd: Path,
    *,
    fix: bool = False,
    extra_args: Sequence[str] = (),
) -> ParseResult:
    """Run ``spec`` over ``files`` in ``cwd`` and parse its output, as the runner would."""
    exe = shutil.which(spec.executable)
    assert exe is not None, f"{spec.executable} is not installed"
    # The runner's own command (a check_command where the spec has one).
    argv = build_argv(spec, exe, fix=fix, extra_args=extra_args)
    env = {**os.environ, **dict(spec.env)} if spec.env else None
    proc = process.run([*argv, *files], cwd=cwd, env=env, timeout=120)
    assert not proc.timed_out
    out = ToolOutput(
        argv=proc.argv,
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        files=tuple(files),
        cwd=str(cwd),
        fix=fix,
    )
    return spec.parse(out)


def places(result: ParseResult) -> list[tuple[str, int | None, str | None]]:
    """(file relative to the run's folder, line, code) of each diagnostic, sorted."""
    return sorted(
        ((os.path.normpath(d.file), d.line, d.code) for d in result.diagnostics),
        key=lambda p: (p[0], p[1] or 0, p[2] or ""),
    )


def write(root: Path, name: str, text: str, *, executable: bool = False) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if executable:
        path.chmod(0o755)
    return name


def selected(spec: ToolSpec, path: Path) -> bool:
    """Whether the spec's types pick ``path``, by identify's tags (as files.py does)."""
    tags = identify.tags_from_path(str(path))
    wanted = not spec.types or bool(tags & spec.types)
    return wanted and not tags & spec.exclude_types


# --- yamllint -----------------------------------------------------------------------

YAMLLINT_CONFIG = "extends: default\n"


@pytest.fixture
def yaml_project(tmp_path: Path) -> Path:
    # Its own configuration, so that a user's ~/.config/yamllint cannot change counts.
    write(tmp_path, ".yamllint", YAMLLINT_CONFIG)
    return tmp_path


def test_yamllint_clean_file_is_ok(yaml_project: Path) -> None:
    write(yaml_project, "clean.yaml", "---\na: 1\n")
    result = run_spec(yamllint.SPEC, ["clean.yaml"], yaml_project)
    assert result == ParseResult("ok")


def test_yamllint_reports_each_problem_with_its_rule(yaml_project: Path) -> None:
    write(yaml_project, "bad.yaml", "---\nkey:   value\nlist: [1,2]\nflag: yes\n")
    result = run_spec(yamllint.SPEC, ["bad.yaml"], yaml_project)
    assert (result.outcome, result.errors, result.warnings) == ("findings", 2, 1)
    assert places(result) == [
        ("bad.yaml", 2, "colons"),
        ("bad.yaml", 3, "commas"),
        ("bad.yaml", 4, "truthy"),
    ]
    truthy = next(d for d in result.diagnostics if d.code == "truthy")
    assert (truthy.severity, truthy.column) == ("warning", 7)
    assert truthy.message == "truthy value should be one of [false, true]"


def test_yamllint_warnings_pass_unless_strict(yaml_project: Path) -> None:
    write(yaml_project, "warn.yaml", "a: 1\n")
    lenient = run_spec(yamllint.SPEC, ["warn.yaml"], yaml_project)
    assert (lenient.outcome, lenient.errors, lenient.warnings) == ("ok", 0, 1)
    assert places(lenient) == [("warn.yaml", 1, "document-start")]
    strict = run_spec(yamllint.SPEC, ["warn.yaml"], yaml_project, extra_args=["--strict"])
    assert (strict.outcome, strict.warnings) == ("findings", 1)


def test_yamllint_unparsable_file_is_a_syntax_finding(yaml_project: Path) -> None:
    write(yaml_project, "broken.yaml", "---\nkey: [1, 2\nother: 3\n")
    result = run_spec(yamllint.SPEC, ["broken.yaml"], yaml_project)
    assert (result.outcome, result.errors) == ("findings", 1)
    assert places(result) == [("broken.yaml", 3, "syntax")]


def test_yamllint_bad_configuration_is_an_error(yaml_project: Path) -> None:
    write(yaml_project, ".yamllint", "rules: {no-such-rule: enable}\n")
    write(yaml_project, "clean.yaml", "---\na: 1\n")
    result = run_spec(yamllint.SPEC, ["clean.yaml"], yaml_project)
    assert result.outcome == "error"
    assert result.message is not None and "no such rule" in result.message


# --- taplo --------------------------------------------------------------------------


def test_taplo_formatted_file_is_ok(tmp_path: Path) -> None:
    write(tmp_path, "ok.toml", '[a]\nb = 1\nc = "x"\n')
    assert run_spec(taplo.SPEC, ["ok.toml"], tmp_path) == ParseResult("ok")


def test_taplo_names_each_file_it_would_reformat(tmp_path: Path) -> None:
    write(tmp_path, "ok.toml", "[a]\nb = 1\n")
    write(tmp_path, "one.toml", "[a]\nb=1\n")
    write(tmp_path, "sub/two.toml", 'x =   "y"\n')
    result = run_spec(taplo.SPEC, ["ok.toml", "one.toml", "sub/two.toml"], tmp_path)
    assert (result.outcome, result.errors, result.message) == (
        "findings",
        2,
        "would reformat 2 files",
    )
    # taplo prints absolute paths; the parser makes them relative to the folder.
    assert places(result) == [("one.toml", None, "fmt"), ("sub/two.toml", None, "fmt")]


def test_taplo_reports_invalid_toml_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "broken.toml", "[a]\nb = = 1\n")
    result = run_spec(taplo.SPEC, ["broken.toml"], tmp_path)
    assert result.outcome == "findings"
    assert places(result)[0] == ("broken.toml", 2, "syntax")
    assert result.diagnostics[0].message == "invalid TOML: Invalid value"  # Python's parser
    assert result.message == "invalid TOML in 1 file"


def test_taplo_fix_rewrites_and_leaves_invalid_toml_alone(tmp_path: Path) -> None:
    write(tmp_path, "bad.toml", "[a]\nb=1\n")
    write(tmp_path, "broken.toml", "[a\n")
    fixed = run_spec(taplo.SPEC, ["bad.toml"], tmp_path, fix=True)
    assert fixed == ParseResult("ok")
    assert (tmp_path / "bad.toml").read_text() == "[a]\nb = 1\n"
    broken = run_spec(taplo.SPEC, ["broken.toml"], tmp_path, fix=True)
    assert (broken.outcome, places(broken)) == ("findings", [("broken.toml", 1, "syntax")])
    assert (tmp_path / "broken.toml").read_text() == "[a\n"


def test_taplo_bad_configuration_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "taplo.toml", "include = [\n")
    write(tmp_path, "ok.toml", "[a]\nb = 1\n")
    result = run_spec(taplo.SPEC, ["ok.toml"], tmp_path)
    assert result.outcome == "error"
    assert result.message is not None and "invalid configuration file" in result.message


def test_taplo_output_with_colors_and_span_prefixes_is_read() -> None:
    # taplo's default logging (RUST_LOG unset) with --colors always, as captured.
    stderr = (
        "\x1b[32m INFO\x1b[0m \x1b[1mtaplo\x1b[0m:\x1b[1mformat_files\x1b[0m: found files\n"
        "\x1b[31mERROR\x1b[0m \x1b[1mtaplo\x1b[0m:\x1b[1mformat_files\x1b[0m: the file is not"
        ' properly formatted \x1b[3mpath\x1b[0m\x1b[2m=\x1b[0m"/w/./bad.toml"\n'
    )
    out = ToolOutput(("taplo",), 1, "", stderr, ("bad.toml",), "/w")
    assert places(taplo.parse(out)) == [("bad.toml", None, "fmt")]


# --- shellcheck ---------------------------------------------------------------------


def test_shellcheck_clean_script_is_ok(tmp_path: Path) -> None:
    write(tmp_path, "clean.sh", '#!/bin/sh\nset -eu\necho "hello"\n')
    assert run_spec(shellcheck.SPEC, ["clean.sh"], tmp_path) == ParseResult("ok")


def test_shellcheck_maps_levels_and_names_codes_sc(tmp_path: Path) -> None:
    write(tmp_path, "bad.sh", "#!/bin/bash\necho $1\ncd /tmp\nls | grep foo\n")
    result = run_spec(shellcheck.SPEC, ["bad.sh"], tmp_path)
    assert (result.outcome, result.errors, result.warnings) == ("findings", 0, 2)
    assert places(result) == [
        ("bad.sh", 2, "SC2086"),
        ("bad.sh", 3, "SC2164"),
        ("bad.sh", 4, "SC2010"),
    ]
    assert [d.severity for d in sorted(result.diagnostics, key=lambda d: d.line or 0)] == [
        "info",
        "warning",
        "warning",
    ]


def test_shellcheck_style_notes_alone_are_a_finding(tmp_path: Path) -> None:
    write(tmp_path, "style.sh", '#!/bin/sh\nfoo=`date`\necho "$foo"\n')
    result = run_spec(shellcheck.SPEC, ["style.sh"], tmp_path)
    assert (result.outcome, result.errors, result.warnings) == ("findings", 0, 0)
    assert places(result) == [("style.sh", 2, "SC2006")]
    assert result.diagnostics[0].severity == "info"
    assert result.message == "1 note"


def test_shellcheck_unparsable_script_is_an_error_finding(tmp_path: Path) -> None:
    write(tmp_path, "broken.sh", "#!/bin/bash\nif then\nfi\n")
    result = run_spec(shellcheck.SPEC, ["broken.sh"], tmp_path)
    assert (result.outcome, result.errors) == ("findings", 2)
    assert places(result) == [("broken.sh", 2, "SC1072"), ("broken.sh", 2, "SC1073")]


def test_shellcheck_missing_file_is_an_error_that_keeps_the_others(tmp_path: Path) -> None:
    write(tmp_path, "bad.sh", "#!/bin/bash\ncd /tmp\n")
    result = run_spec(shellcheck.SPEC, ["bad.sh", "gone.sh"], tmp_path)
    assert result.outcome == "error"
    assert result.message is not None and "gone.sh" in result.message
    assert places(result) == [("bad.sh", 2, "SC2164")]


@pytest.mark.parametrize(
    ("name", "text", "picked"),
    [
        ("a.sh", "echo\n", True),
        ("a.bash", "echo\n", True),
        ("run", "#!/bin/sh\necho\n", True),
        ("run", "#!/usr/bin/env bash\necho\n", True),
        ("run", "#!/bin/dash\necho\n", True),
        ("run", "#!/bin/ksh\necho\n", True),
        ("a.zsh", "echo\n", False),
        ("run", "#!/bin/zsh\necho\n", False),
        ("run", "#!/bin/csh\necho\n", False),
        ("a.py", "print()\n", False),
    ],
)
def test_shellcheck_takes_the_shells_it_supports(
    tmp_path: Path, name: str, text: str, picked: bool
) -> None:
    path = tmp_path / write(tmp_path, name, text, executable=not name.count("."))
    assert selected(shellcheck.SPEC, path) is picked


# --- hadolint -----------------------------------------------------------------------


def test_hadolint_clean_dockerfile_is_ok(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", 'FROM python:3.11-slim\nCMD ["python"]\n')
    assert run_spec(hadolint.SPEC, ["Dockerfile"], tmp_path) == ParseResult("ok")


def test_hadolint_reports_rules_with_their_levels(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "FROM ubuntu\nRUN cd /tmp && echo $FOO\nMAINTAINER me\n")
    result = run_spec(hadolint.SPEC, ["Dockerfile"], tmp_path)
    assert (result.outcome, result.errors, result.warnings) == ("findings", 1, 2)
    assert places(result) == [
        ("Dockerfile", 1, "DL3006"),
        ("Dockerfile", 2, "DL3003"),
        ("Dockerfile", 2, "SC2086"),
        ("Dockerfile", 3, "DL4000"),
    ]
    severity = {d.code: d.severity for d in result.diagnostics}
    assert severity == {
        "DL3006": "warning",
        "DL3003": "warning",
        "SC2086": "info",
        "DL4000": "error",
    }


def test_hadolint_style_below_the_threshold_passes(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "FROM alpine:3\nRUN echo hi\nRUN echo ho\n")
    result = run_spec(hadolint.SPEC, ["Dockerfile"], tmp_path, extra_args=["--style", "DL3059"])
    assert (result.outcome, places(result)) == ("ok", [("Dockerfile", 3, "DL3059")])


def test_hadolint_unparsable_dockerfile_is_dl1000_on_one_line(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile", "FROM alpine:3\nBOGUS thing\n")
    result = run_spec(hadolint.SPEC, ["Dockerfile"], tmp_path)
    assert (result.outcome, places(result)) == ("findings", [("Dockerfile", 2, "DL1000")])
    assert "\n" not in result.diagnostics[0].message
    assert result.diagnostics[0].message.startswith("unexpected 'B'; expecting ")


def test_hadolint_bad_configuration_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, ".hadolint.yaml", "failure-threshold: bogus\n")
    write(tmp_path, "Dockerfile", 'FROM python:3.11-slim\nCMD ["python"]\n')
    result = run_spec(hadolint.SPEC, ["Dockerfile"], tmp_path)
    assert result.outcome == "error"
    assert result.message is not None and ".hadolint.yaml" in result.message


def test_hadolint_missing_file_is_an_error(tmp_path: Path) -> None:
    result = run_spec(hadolint.SPEC, ["Dockerfile.gone"], tmp_path)
    assert result.outcome == "error"
    assert result.message is not None and "does not exist" in result.message


# --- ansible-lint -------------------------------------------------------------------

PLAYBOOK = """\
---
- name: Clean play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say hi
      ansible.builtin.debug:
        msg: hi
"""

BAD_PLAYBOOK = """\
---
- name: Bad play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run a command
      ansible.builtin.shell: echo hi
"""

WARN_PLAYBOOK = PLAYBOOK.replace("msg: hi", 'msg: "{{foo}}"')


def test_ansible_files_keeps_playbooks_and_role_content_only(tmp_path: Path) -> None:
    names = [
        write(tmp_path, "site.yml", PLAYBOOK),
        write(tmp_path, "imports.yaml", "- import_playbook: site.yml\n"),
        write(tmp_path, "named.yml", "# plays\n---\n- name: x\n  hosts: all\n  tasks: []\n"),
        write(tmp_path, "dash_alone.yml", "-\n  hosts: all\n"),
        write(tmp_path, "roles/web/tasks/main.yml", "- name: x\n  ansible.builtin.ping:\n"),
        write(tmp_path, "roles/web/defaults/main.yaml", "port: 80\n"),
        write(tmp_path, "deploy/tasks/extra.yml", "- ansible.builtin.ping:\n"),
        write(tmp_path, "playbooks/nested/any.yml", "[]\n"),
        write(tmp_path, "inventory.yml", "all:\n  hosts:\n    web: {}\n"),
        write(tmp_path, "list.yml", "- name: x\n  vars:\n    hosts: 1\n"),
        write(tmp_path, ".gitlab-ci.yml", "build:\n  script: [make]\n"),
        write(tmp_path, "roles/web/README.md", "# web\n"),
        "missing.yml",
    ]
    assert ansible_lint.ansible_files(names, str(tmp_path)) == names[:8]


def test_ansible_files_never_raises_on_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "folder.yml").mkdir()
    write(tmp_path, "binary.yml", "")
    (tmp_path / "binary.yml").write_bytes(b"\xff\xfe\x00- hosts")
    assert ansible_lint.ansible_files(["folder.yml", "binary.yml"], str(tmp_path)) == []


def test_ansible_lint_clean_playbook_is_ok(tmp_path: Path) -> None:
    write(tmp_path, "site.yml", PLAYBOOK)
    assert run_spec(ansible_lint.SPEC, ["site.yml"], tmp_path) == ParseResult("ok")


def test_ansible_lint_reports_violations_warnings_and_load_failures(tmp_path: Path) -> None:
    files = [
        write(tmp_path, "bad.yml", BAD_PLAYBOOK),
        write(tmp_path, "warn.yml", WARN_PLAYBOOK),
        write(tmp_path, "broken.yml", "---\n- name: Broken\n  hosts: all\n  tasks: [\n"),
    ]
    result = run_spec(ansible_lint.SPEC, files, tmp_path)
    assert (result.outcome, result.errors, result.warnings) == ("findings", 3, 1)
    assert places(result) == [
        ("bad.yml", 6, "command-instead-of-shell"),
        ("bad.yml", 6, "no-changed-when"),
        ("broken.yml", 5, "load-failure[yaml]"),
        ("warn.yml", 8, "jinja[spacing]"),
    ]
    load = next(d for d in result.diagnostics if d.file == "broken.yml")
    assert (load.severity, load.message) == (
        "error",
        "Failed to load YAML file (did not find expected node content)",
    )


def test_ansible_lint_bad_configuration_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, ".ansible-lint", "bogus_key: 1\n")
    write(tmp_path, "site.yml", PLAYBOOK)
    result = run_spec(ansible_lint.SPEC, ["site.yml"], tmp_path)
    assert result.outcome == "error"
    assert result.message is not None and "bogus_key" in result.message
    assert "\x1b" not in result.message


def test_ansible_lint_warnings_alone_pass() -> None:
    stdout = (
        '[{"type": "issue", "check_name": "jinja[spacing]", "severity": "minor",'
        ' "description": "Jinja2 spacing could be improved",'
        ' "location": {"path": "warn.yml", "positions": {"begin": {"line": 8, "column": 14}}}}]'
    )
    result = ansible_lint.parse(ToolOutput(("ansible-lint",), 0, stdout, "", ("warn.yml",), "/"))
    assert (result.outcome, result.warnings, places(result)) == (
        "ok",
        1,
        [("warn.yml", 8, "jinja[spacing]")],
    )
    assert result.diagnostics[0].column == 14


# --- helm lint (stand-in) -----------------------------------------------------------

# What `helm lint` prints, per helm's pkg/cmd/lint.go and pkg/lint/support/message.go,
# for the few rules this stand-in applies (the wording is helm's own).
HELM_STANDIN = r"""
import os, re, sys

args = sys.argv[1:]
if args[:1] == ["version"]:
    print("v3.15.4+gfa9efb0")
    sys.exit(0)
if args[:1] != ["lint"]:
    sys.exit("Error: unknown command " + repr(args[:1]))
flags = [a for a in args[1:] if a.startswith("-")]
for flag in flags:
    if flag != "--strict":
        sys.stderr.write("Error: unknown flag: " + flag + "\n")
        sys.exit(1)
strict = "--strict" in flags
paths = [a for a in args[1:] if not a.startswith("-")] or ["."]


def lint(chart):
    chart_file = os.path.join(chart, "Chart.yaml")
    if not os.path.isfile(chart_file):
        error = "unable to check Chart.yaml file in chart: stat %s: no such file or directory"
        return [], [error % chart_file]
    fields = dict(re.findall(r"^(\w+):[ \t]*(.*)$", open(chart_file).read(), re.M))
    messages = []
    if "name" not in fields:
        messages.append(("ERROR", "Chart.yaml", "name is required"))
    if "apiVersion" not in fields:
        messages.append(("ERROR", "Chart.yaml",
                         'apiVersion is required. The value must be either "v1" or "v2"'))
    if "version" not in fields:
        messages.append(("ERROR", "Chart.yaml", "version is required"))
    if "icon" not in fields:
        messages.append(("INFO", "Chart.yaml", "icon is recommended"))
    if not os.path.isfile(os.path.join(chart, "values.yaml")):
        messages.append(("INFO", "values.yaml", "file does not exist"))
    templates = os.path.join(chart, "templates")
    if not os.path.isdir(templates):
        messages.append(("WARNING", "templates/", "directory not found"))
        return messages, []
    for name in sorted(os.listdir(templates)):
        lines = open(os.path.join(templates, name)).read().splitlines()
        opened = None
        for number, line in enumerate(lines, 1):
            if line.count("{{") > line.count("}}"):
                opened = number
            if "BADYAML" in line:
                messages.append(("ERROR", "templates/" + name,
                                 "unable to parse YAML: error converting YAML to JSON: yaml: "
                                 "line %d: mapping values are not allowed in this context"
                                 % number))
        if opened is not None:
            messages.append(("ERROR", "templates/",
                             "parse error at (%s/templates/%s:%d): unclosed action"
                             % (fields.get("name", ""), name, opened)))
    return messages, []


out, failed, noisy = [], 0, 0
for path in paths:
    messages, errors = lint(path)
    out.append("==> Linting %s" % path)
    if not messages:
        out.extend("Error %s" % e for e in errors)
    out.extend("[%s] %s: %s" % m for m in messages)
    bad = {"ERROR", "WARNING"} if strict else {"ERROR"}
    if errors or any(m[0] in bad for m in messages):
        failed += 1
    out.append("")
sys.stdout.write("\n".join(out) + "\n")
summary = "%d chart(s) linted, %d chart(s) failed" % (len(paths), failed)
if failed:
    sys.stderr.write("Error: " + summary + "\n")
    sys.exit(1)
print(summary)
"""

CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\nicon: https://example.com/web.png\n"


def install_standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: str) -> None:
    """Put an executable ``name`` running ``code`` first on PATH."""
    folder = tmp_path / "standin-bin"
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f"#!{sys.executable}\n{textwrap.dedent(code)}", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
def helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install_standin(tmp_path, monkeypatch, "helm", HELM_STANDIN)
    root = tmp_path / "repo"
    root.mkdir()
    return root


def make_chart(root: Path, folder: str, chart: str = CHART, **templates: str) -> None:
    write(root, f"{folder}/Chart.yaml", chart)
    write(root, f"{folder}/values.yaml", "replicas: 1\n")
    for name, text in templates.items():
        write(root, f"{folder}/templates/{name}.yaml", text)


def test_chart_folders_maps_files_to_their_nearest_chart_once(tmp_path: Path) -> None:
    make_chart(tmp_path, "charts/web", cm="kind: ConfigMap\n")
    make_chart(tmp_path, "charts/web/charts/db", CHART.replace("web", "db"))
    make_chart(tmp_path, "top")
    files = [
        "charts/web/templates/cm.yaml",
        "charts/web/values.yaml",
        "charts/web/charts/db/values.yaml",
        "top/Chart.yaml",
        "docs/values.yaml",
        "charts/gone/templates/x.yaml",
    ]
    assert helm_lint.chart_folders(files, str(tmp_path)) == [
        "charts/web",
        "charts/web/charts/db",
        "top",
    ]


def test_chart_folders_finds_a_chart_at_the_root(tmp_path: Path) -> None:
    make_chart(tmp_path, ".")
    assert helm_lint.chart_folders(["templates/x.yaml", "Chart.yaml"], str(tmp_path)) == ["."]


def test_helm_lint_clean_chart_is_ok_with_its_info_notes(helm: Path) -> None:
    make_chart(helm, "charts/web", cm="kind: ConfigMap\n")
    result = run_spec(helm_lint.SPEC, ["charts/web"], helm)
    assert (result.outcome, result.errors, result.warnings) == ("ok", 0, 0)
    assert result.diagnostics == ()


def test_helm_lint_points_at_the_template_and_line(helm: Path) -> None:
    make_chart(
        helm,
        "charts/web",
        CHART.replace("icon: https://example.com/web.png\n", ""),
        cm="kind: ConfigMap\ndata:\n  a: {{ .Values.a\n",
        svc="kind: Service\nspec: BADYAML\n",
    )
    make_chart(helm, "charts/ok", cm="kind: ConfigMap\n")
    result = run_spec(helm_lint.SPEC, ["charts/web", "charts/ok"], helm)
    assert (result.outcome, result.errors, result.warnings) == ("findings", 2, 0)
    assert result.message == "1 of 2 chart(s) failed"
    assert places(result) == [
        ("charts/web/Chart.yaml", None, None),
        ("charts/web/templates/cm.yaml", 3, None),
        ("charts/web/templates/svc.yaml", 2, None),
    ]
    by_file = {d.file: d for d in result.diagnostics}
    assert by_file["charts/web/Chart.yaml"].severity == "info"
    assert by_file["charts/web/templates/cm.yaml"].message == (
        "parse error at (web/templates/cm.yaml:3): unclosed action"
    )


def test_helm_lint_warnings_pass_unless_strict(helm: Path) -> None:
    write(helm, "bare/Chart.yaml", CHART)
    write(helm, "bare/values.yaml", "a: 1\n")
    lenient = run_spec(helm_lint.SPEC, ["bare"], helm)
    assert (lenient.outcome, lenient.warnings) == ("ok", 1)
    assert places(lenient) == [("bare/templates", None, None)]
    strict = run_spec(helm_lint.SPEC, ["bare"], helm, extra_args=["--strict"])
    assert (strict.outcome, strict.warnings) == ("findings", 1)


def test_helm_lint_folder_without_chart_yaml_is_a_finding(helm: Path) -> None:
    (helm / "empty").mkdir()
    result = run_spec(helm_lint.SPEC, ["empty"], helm)
    assert (result.outcome, result.errors, places(result)) == (
        "findings",
        1,
        [("empty", None, None)],
    )
    assert result.diagnostics[0].message.startswith("unable to check Chart.yaml file in chart")


def test_helm_failing_for_another_reason_is_an_error(helm: Path) -> None:
    make_chart(helm, "web", cm="kind: ConfigMap\n")
    result = run_spec(helm_lint.SPEC, ["web"], helm, extra_args=["--bogus"])
    assert result.outcome == "error"
    assert result.message == "exit code 1: Error: unknown flag: --bogus"


# --- gitlab-ci (check-jsonschema) -----------------------------------------------------

GITLAB_CI = """\
stages: [build]
.setup:
  script:
    - echo setup
build:
  stage: build
  script:
    - !reference [.setup, script]
    - make
"""

BAD_GITLAB_CI = """\
build:
  stage: build
  script: [make]
  when: sometimes
"job two":
  script: [make]
  retry: {max: 9}
rules_job:
  script: [make]
  rules:
    - if: $X
      when: never
    - if: $Y
      when: nope
"""


def test_gitlab_ci_valid_file_with_reference_tags_is_ok(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", GITLAB_CI)
    assert run_spec(gitlab_ci.SPEC, [".gitlab-ci.yml"], tmp_path) == ParseResult("ok")


def test_gitlab_ci_schema_errors_are_located_at_their_lines(tmp_path: Path) -> None:
    write(tmp_path, "ci/.gitlab-ci.yml", BAD_GITLAB_CI)
    result = run_spec(gitlab_ci.SPEC, ["ci/.gitlab-ci.yml"], tmp_path)
    assert (result.outcome, result.errors) == ("findings", 3)
    assert places(result) == [
        ("ci/.gitlab-ci.yml", 4, "schema"),
        ("ci/.gitlab-ci.yml", 7, "schema"),
        ("ci/.gitlab-ci.yml", 14, "schema"),
    ]
    messages = sorted(d.message for d in result.diagnostics)
    assert messages[0] == "$.build.when: 'sometimes' is not one of " + (
        "['on_success', 'on_failure', 'always', 'never', 'manual', 'delayed']"
    )
    assert messages[1] == "$.rules_job.rules[1].when: 'nope' is not one of " + (
        "['on_success', 'on_failure', 'always', 'never', 'manual', 'delayed']"
    )
    assert messages[2] == "$['job two'].retry.max: 9 is greater than the maximum of 2"


def test_gitlab_ci_unparsable_file_is_a_parse_finding(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", "build:\n  script: [\n")
    result = run_spec(gitlab_ci.SPEC, [".gitlab-ci.yml"], tmp_path)
    assert (result.outcome, places(result)) == ("findings", [(".gitlab-ci.yml", None, "parse")])


def test_gitlab_ci_missing_file_is_an_error(tmp_path: Path) -> None:
    result = run_spec(gitlab_ci.SPEC, [".gitlab-ci.yml"], tmp_path)
    assert result.outcome == "error"
    assert result.message is not None and "No such file or directory" in result.message


def test_gitlab_ci_text_report_is_read_when_json_is_missing(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", BAD_GITLAB_CI)
    # check-jsonschema 0.39's text report (-o text), as captured.
    stdout = textwrap.dedent("""\
        Several files failed to parse.
          Failed to parse broken.yml
            ParserError: while parsing a flow node
        Schema validation errors were encountered.
          .gitlab-ci.yml::$.build.when: 'sometimes' is not one of ['on_success']
        """)
    out = ToolOutput(("check-jsonschema",), 1, stdout, "", (), str(tmp_path))
    result = gitlab_ci.parse(out)
    assert places(result) == [(".gitlab-ci.yml", 4, "schema"), ("broken.yml", None, "parse")]


def test_gitlab_ci_files_regex_takes_only_gitlab_ci_files() -> None:
    pattern = re.compile(gitlab_ci.SPEC.files)
    assert [bool(pattern.search(n)) for n in (".gitlab-ci.yml", "a/.gitlab-ci.yaml")] == [
        True,
        True,
    ]
    assert not any(pattern.search(n) for n in ("gitlab-ci.yml", "x.gitlab-ci.yml", "ci.yml"))


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("$.a", 1),
        ("$.a.b", 2),
        ("$.a.b.c", 2),  # a flow mapping: the deepest key found
        ("$.a.list[1]", 5),
        ("$.a.list[1].k", 6),
        ("$['x y'].z", 8),
        ("$.nope", None),
        ("$.a[0]", 1),
    ],
)
def test_locate_finds_the_line_of_a_json_path(path: str, line: int | None) -> None:
    text = "a:\n  b: {c: 1}\n  list:\n    - one\n    - j: 1\n      k: 2\n'x y':\n  z: 3\n"
    steps = gitlab_ci.json_path_steps(path)
    assert steps is not None
    assert gitlab_ci.locate(text, steps) == line


# --- chapel-format (stand-in) -------------------------------------------------------

# A formatter with the interface chapel_format.py assumes: formatted text on stdout, or
# in place with -i; "FILE:LINE: syntax error: ..." on stderr for a file it cannot parse.
# It strips trailing blanks, indents by braces (two spaces) and ends with one newline.
CHAPEL_STANDIN = r"""
import sys

args = sys.argv[1:]
if args == ["--version"]:
    print("chapel-format 0.0 (stand-in)")
    sys.exit(0)
in_place = "-i" in args
status = 0
for name in [a for a in args if a != "-i"]:
    text = open(name, encoding="utf-8").read()
    depth, lines, error = 0, [], None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        closes = line.startswith("}")
        depth -= closes
        if depth < 0:
            error = "%s:%d: syntax error: near '}'" % (name, number)
            break
        lines.append("  " * depth + line if line else "")
        depth += line.count("{") - line.count("}") + closes
    if error is None and depth:
        error = "%s:%d: syntax error: near end of file" % (name, len(text.splitlines()))
    if error:
        print(error, file=sys.stderr)
        status = 1
        continue
    formatted = "\n".join(lines).rstrip("\n") + "\n"
    if in_place:
        if formatted != text:
            open(name, "w", encoding="utf-8").write(formatted)
    else:
        sys.stdout.write(formatted)
sys.exit(status)
"""

CHAPEL_CLEAN = 'proc main() {\n  writeln("hi");\n}\n'
CHAPEL_MESSY = 'proc main() {\nwriteln("hi");   \n}\n'


@pytest.fixture
def chapel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install_standin(tmp_path, monkeypatch, "chapel-format", CHAPEL_STANDIN)
    root = tmp_path / "repo"
    root.mkdir()
    return root


def test_chapel_format_formatted_files_are_ok(chapel: Path) -> None:
    files = [write(chapel, "a.chpl", CHAPEL_CLEAN), write(chapel, "b.chpl", "var x = 1;\n")]
    assert run_spec(chapel_format.SPEC, files, chapel) == ParseResult("ok")


def test_chapel_format_names_the_files_and_lines_it_would_change(chapel: Path) -> None:
    files = [
        write(chapel, "a.chpl", CHAPEL_CLEAN),
        write(chapel, "messy.chpl", CHAPEL_MESSY),
        write(chapel, "b.chpl", "var x = 1;\n"),
        write(chapel, "no_newline.chpl", "var y = 2;"),
    ]
    result = run_spec(chapel_format.SPEC, files, chapel)
    assert (result.outcome, result.errors) == ("findings", 2)
    assert result.message == "would reformat 2 files"
    assert places(result) == [("messy.chpl", 2, "fmt"), ("no_newline.chpl", 1, "fmt")]


def test_chapel_format_unparsable_file_is_a_syntax_finding(chapel: Path) -> None:
    files = [
        write(chapel, "broken.chpl", "proc f() {\n}\n}\n"),
        write(chapel, "a.chpl", CHAPEL_CLEAN),
    ]
    result = run_spec(chapel_format.SPEC, files, chapel)
    assert (result.outcome, places(result)) == ("findings", [("broken.chpl", 3, "syntax")])
    assert result.message == "cannot parse 1 file"


def test_chapel_format_fix_rewrites_in_place(chapel: Path) -> None:
    name = write(chapel, "messy.chpl", CHAPEL_MESSY)
    assert run_spec(chapel_format.SPEC, [name], chapel, fix=True) == ParseResult("ok")
    assert (chapel / name).read_text() == CHAPEL_CLEAN
    assert run_spec(chapel_format.SPEC, [name], chapel) == ParseResult("ok")


def test_chapel_format_spec_selects_chpl_files_by_name() -> None:
    assert chapel_format.SPEC.types == frozenset()
    assert re.search(chapel_format.SPEC.files, "src/Main.chpl")
    assert not re.search(chapel_format.SPEC.files, "src/main.chpl.bak")


@pytest.mark.parametrize(
    ("texts", "output", "changed"),
    [
        (["a\n", "b\n"], "a\nb\n", {}),
        (["a  \n", "b\n"], "a\nb\n", {0: 1}),
        (["a\n", "b  \n"], "a\nb\n", {1: 1}),
        (["a\n", "x\ny \n", "c\n"], "a\nx\ny\nc\n", {1: 2}),
        (["a", "b\n"], "a\nb\n", {0: 1}),  # no final newline: always reformatted
        (["a \n", "b \n", "c\n"], "a\nb\nc\n", {0: None, 1: None}),  # run of two: no line
        (["a\n"], "a\nextra\n", {0: 2}),
        (["", "b\n"], "b\n", {}),
    ],
)
def test_reformatted_splits_the_output_between_the_files(
    texts: list[str], output: str, changed: dict[int, int | None]
) -> None:
    assert chapel_format.reformatted(output, texts) == changed
