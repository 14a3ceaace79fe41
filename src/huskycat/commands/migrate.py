"""``huskycat migrate``: print (or add to pyproject.toml) the ``[tool.huskycat]``
configuration equivalent to ``.pre-commit-config.yaml`` (:mod:`huskycat.precommit.migrate`)."""

from __future__ import annotations

import argparse

from huskycat.commands.common import EXIT_OK, UsageError, load_config, repo_root


def cmd_migrate(args: argparse.Namespace) -> int:
    from huskycat.precommit import plan as precommit
    from huskycat.precommit.config import load_config as load_precommit
    from huskycat.precommit.migrate import migrate
    from huskycat.tools.defaults import NAMES

    root, _ = repo_root()
    source = precommit.config_path(root)
    if source is None:
        raise UsageError(f"no .pre-commit-config.yaml in {str(root)!r} to migrate")
    text = migrate(load_precommit(source), NAMES)
    if not args.write:
        print(text, end="")
        return EXIT_OK
    existing = load_config(root)
    if existing.source is not None:
        raise UsageError(
            f"{str(existing.source)!r} already configures huskycat; print the migration "
            "without --write and merge it by hand"
        )
    pyproject = root / "pyproject.toml"
    before = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    joined = before + ("\n" if before and not before.endswith("\n\n") else "") + text
    pyproject.write_text(joined, encoding="utf-8")
    print(f"huskycat: wrote [tool.huskycat] to {str(pyproject)!r}")
    return EXIT_OK
