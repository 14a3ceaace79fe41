"""One base class for huskycat's errors, mapped to exit 2 by the command."""

from __future__ import annotations

import argparse

import pytest

from huskycat import cli
from huskycat.errors import HuskycatError


def test_every_error_class_of_ours_is_a_huskycat_error() -> None:
    from huskycat.commands.common import UsageError
    from huskycat.commands.run import ReportError
    from huskycat.config import ConfigError
    from huskycat.files import FilesError
    from huskycat.git import GitError
    from huskycat.hook import HookError
    from huskycat.planning import PlanError
    from huskycat.staged import StagedError

    for error in (UsageError, ReportError, ConfigError, FilesError, GitError, HookError):
        assert issubclass(error, HuskycatError), error
    assert issubclass(PlanError, HuskycatError) and issubclass(StagedError, HuskycatError)


class _NewError(HuskycatError):
    """An error class of a module the command line knows nothing of."""

    def __str__(self) -> str:
        return "the value 'x' in somewhere.toml is bad"


def test_any_huskycat_error_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def command(args: argparse.Namespace) -> int:
        raise _NewError()

    from huskycat.commands import graph

    monkeypatch.setattr(graph, "cmd_graph", command)
    assert cli.main(["graph"]) == 2
    assert capsys.readouterr().err == "huskycat: error: the value 'x' in somewhere.toml is bad\n"


def test_other_exceptions_keep_their_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def command(args: argparse.Namespace) -> int:
        raise ValueError("a bug")

    from huskycat.commands import graph

    monkeypatch.setattr(graph, "cmd_graph", command)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["graph"])
