"""A large real project in a temporary git repository, for benchmarks.

The Python source and YAML come from a package installed from PyPI (by default
``ansible``, from ansible-core: 575 modules, 6 MB of real Python, and 127 YAML files of
its documentation and configuration data). A bounded, evenly spaced sample of its modules
is copied under ``src/<package>/`` (evenly spaced in sorted path order, so every
subpackage is represented), together with the ``__init__.py`` of each package on the way,
so that mypy sees the same module names as in the original. Nothing is edited: the
tools find what they find in the real code.

Generated beside it, since the package ships none of them: a ``pyproject.toml``, a few
TOML files, shell scripts (two with a finding shellcheck reports), two Dockerfiles, an
Ansible playbook and role, a ``.gitlab-ci.yml``, a ``.gitignore`` for the tools' caches,
and a ``.yamllint`` that extends yamllint's ``relaxed`` preset with trailing spaces and
a missing final newline as warnings. Without that file yamllint fails on the copied
YAML (ansible-core's YAML is not written to yamllint's default style), and huskycat then
rightly blocks ansible-lint and the GitLab CI check, which require yamllint's success; the
benchmark would then not run them at all.

Everything is committed in one commit by a fixed identity.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PACKAGE = "ansible"
_GIT_IDENTITY = ("-c", "user.name=bench", "-c", "user.email=bench@example.invalid")

_PYPROJECT = """\
[project]
name = "{package}-copy"
version = "0.0.0"
description = "A sample of {source}'s source, copied for a huskycat benchmark."
requires-python = ">=3.10"
"""

_YAMLLINT = """\
extends: relaxed
rules:
  trailing-spaces:
    level: warning
  new-line-at-end-of-file:
    level: warning
"""

_GITIGNORE = """\
.mypy_cache/
.ruff_cache/
__pycache__/
*.pyc
"""

_TOML = {
    "config/settings.toml": """\
[server]
host = "127.0.0.1"
port = 8080
workers = 4

[logging]
level = "info"
format = "%(asctime)s %(levelname)s %(message)s"
""",
    "config/features.toml": """\
[features]
caching = true
metrics = false

[features.limits]
requests_per_minute = 600
burst = 20
""",
    "config/deploy.toml": """\
[[targets]]
name = "staging"
hosts = ["stage-1", "stage-2"]

[[targets]]
name = "production"
hosts = ["prod-1", "prod-2", "prod-3"]
""",
}

_SHELL = {
    "scripts/build.sh": """\
#!/usr/bin/env bash
set -euo pipefail

version="${1:-dev}"
echo "building version ${version}"
python -m build --outdir dist
""",
    "scripts/test.sh": """\
#!/bin/sh
set -eu

for suite in unit integration; do
    echo "running ${suite} tests"
done
""",
    "scripts/release.sh": """\
#!/usr/bin/env bash
set -euo pipefail

tag=$1
git tag $tag
echo "tagged $tag"
""",
    "scripts/clean.sh": """\
#!/bin/sh
rm -rf build dist
find . -name '*.pyc' -delete
cd $HOME
""",
    "hack/env.bash": """\
#!/usr/bin/env bash
export PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
""",
}

_DOCKER = {
    "Dockerfile": """\
FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
USER nobody
CMD ["ansible", "--version"]
""",
    "docker/Dockerfile": """\
FROM ubuntu:22.04
RUN apt-get update && apt-get install -y python3 python3-pip
COPY . /src
RUN cd /src && pip3 install .
""",
}

_ANSIBLE = {
    "playbooks/site.yml": """\
---
- name: Configure web servers
  hosts: web
  become: true
  roles:
    - web
""",
    "roles/web/tasks/main.yml": """\
---
- name: Install nginx
  ansible.builtin.package:
    name: nginx
    state: present
  notify: Restart nginx

- name: Start nginx
  ansible.builtin.service:
    name: nginx
    state: started
    enabled: true
""",
    "roles/web/handlers/main.yml": """\
---
- name: Restart nginx
  ansible.builtin.service:
    name: nginx
    state: restarted
""",
}

_GITLAB_CI = """\
stages:
  - lint
  - test

lint:
  stage: lint
  image: python:3.11
  script:
    - pip install huskycat
    - huskycat run --all-files

test:
  stage: test
  image: python:3.11
  script:
    - python -m pytest
"""


@dataclass(frozen=True, kw_only=True)
class Project:
    """A built benchmark project."""

    root: Path
    source: str  # "ansible-core 2.19.14 (ansible)"
    counts: dict[str, int]  # kind of file -> how many were written

    def describe(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.counts.items())
        return f"{sum(self.counts.values())} files from {self.source}: {kinds}"


def package_folder(package: str) -> Path:
    """Where the installed ``package`` lives; exits with a message when it is missing."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {package!r} is not installed (pip install ansible-core)")
    return Path(next(iter(spec.submodule_search_locations)))


def distribution(package: str) -> str:
    """The distribution that installed ``package``: "ansible-core 2.19.14" for "ansible"."""
    names = importlib.metadata.packages_distributions().get(package, [package])
    name = names[0]
    try:
        return f"{name} {importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return name


def evenly_spaced(items: list[Path], count: int) -> list[Path]:
    """``count`` items spread over ``items`` in order (all of them when fewer)."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def _with_packages(chosen: list[Path], top: Path) -> set[Path]:
    """``chosen`` plus the ``__init__.py`` of every package from ``top`` down to each."""
    found = set(chosen)
    for path in chosen:
        folder = path.parent
        while folder == top or top in folder.parents:
            init = folder / "__init__.py"
            if init.is_file():
                found.add(init)
            folder = folder.parent
    return found


def _write(root: Path, files: dict[str, str], *, executable: bool = False) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if executable:
            path.chmod(0o755)


def build_project(
    root: Path,
    *,
    package: str = DEFAULT_PACKAGE,
    python_files: int = 400,
    yaml_files: int = 40,
) -> Project:
    """Write the project into the empty or missing folder ``root`` and commit it."""
    top = package_folder(package)
    modules = sorted(p for p in top.rglob("*.py") if "__pycache__" not in p.parts)
    chosen = _with_packages(evenly_spaced(modules, python_files), top)
    yaml = evenly_spaced(sorted(top.rglob("*.yml")), yaml_files)
    target = root / "src" / package
    for path in sorted(chosen | set(yaml)):
        copy = target / path.relative_to(top)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)

    source = distribution(package)
    _write(root, {"pyproject.toml": _PYPROJECT.format(package=package, source=source)})
    _write(root, {".yamllint": _YAMLLINT, ".gitignore": _GITIGNORE, ".gitlab-ci.yml": _GITLAB_CI})
    _write(root, _TOML)
    _write(root, _SHELL, executable=True)
    _write(root, _DOCKER)
    _write(root, _ANSIBLE)

    git = ["git", *_GIT_IDENTITY]
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["commit", "-q", "--no-verify", "-m", f"a sample of {source}"],
    ):
        subprocess.run([*git, *args], cwd=root, check=True, stdin=subprocess.DEVNULL)
    counts = {
        "python": len(chosen),
        "yaml": len(yaml) + len(_ANSIBLE) + 2,  # .yamllint is YAML too, and .gitlab-ci.yml
        "toml": len(_TOML) + 1,
        "shell": len(_SHELL),
        "dockerfile": len(_DOCKER),
    }
    return Project(root=root, source=f"{source} ({package})", counts=counts)
