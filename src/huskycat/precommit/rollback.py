"""pre-commit's answer when hook fixes conflict with unstaged changes in a staged run:
every hook's fixes are rolled back, not only the conflicting file's.

pre-commit saves the unstaged changes as a patch (``git diff --binary``), runs the
hooks on the staged content, and applies the patch again; when it does not apply to
what the hooks left, it checks out the index (dropping every fix) and applies it there.
huskycat's staged mode (:mod:`huskycat.staged`) merges file by file and rolls back only
the files that conflict, which keeps more fixes but is not pre-commit's outcome. In a
repository run from ``.pre-commit-config.yaml`` the run asks, before its unstaged changes
come back, whether pre-commit's patch would apply (``git apply --check``), and when it
would not, drops every fix first, as pre-commit does.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    # Bytes, not text: a patch of binary files must reach git apply unchanged.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(
        ["git", *args],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )


def unstaged_patch(root: Path) -> bytes:
    """The unstaged changes as pre-commit saves them (empty when there are none)."""
    result = _git(root, "diff", "--ignore-submodules", "--binary", "--no-color", "--no-ext-diff")
    return result.stdout if result.returncode == 0 else b""


def patch_applies(root: Path, patch: bytes) -> bool:
    """Whether ``patch`` applies to the work tree as it is (``git apply --check``)."""
    with tempfile.NamedTemporaryFile(suffix=".patch", delete=False) as stream:
        stream.write(patch)
    try:
        return _git(root, "apply", "--check", "--whitespace=nowarn", stream.name).returncode == 0
    finally:
        os.unlink(stream.name)


def drop_fixes(root: Path) -> None:
    """Check out the index over the work tree: every hook's change to a tracked file goes."""
    _git(root, "checkout", "--", ".")
