"""``huskycat merge A.json B.json ...``: the JSON reports of ``huskycat run --shard K/N``
as one run: the same summary, exit code, JUnit XML and JSON report as a single run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from huskycat import __version__
from huskycat.commands.common import EXIT_FAILED, EXIT_OK, UsageError
from huskycat.tools.facts import facts_of


def cmd_merge(args: argparse.Namespace) -> int:
    from huskycat.core.results import ToolStatus
    from huskycat.distributed.merge import merge, read_shard
    from huskycat.report.console import render_summary

    shards = [read_shard(path, _load(path)) for path in args.reports]
    merged = merge(shards)
    verbosity = -1 if args.quiet else args.verbose
    render_summary(merged.results, merged.statistics, sys.stdout, verbosity=verbosity)
    if args.junit_xml:
        from huskycat.report.junit import write_junit_xml

        try:
            write_junit_xml(
                merged.results, Path(args.junit_xml), wall_time=merged.statistics["wall_time"]
            )
        except OSError as exc:
            raise UsageError(f"cannot write --junit-xml {args.junit_xml!r}: {exc}") from exc
    if args.json:
        from huskycat.report.json_report import build_report, write_json

        report = build_report(
            merged.results,
            plan=merged.levels,
            statistics=merged.statistics,
            version=__version__,
            root=merged.root,
            mode=merged.mode,
        )
        try:
            write_json(report, Path(args.json))
        except OSError as exc:
            raise UsageError(f"cannot write --json {args.json!r}: {exc}") from exc
    failed = any(
        r.status in (ToolStatus.FAILED, ToolStatus.TIMEOUT) or not r.success for r in merged.results
    )
    modified = any(facts_of(r).modified_files for r in merged.results)
    return EXIT_FAILED if failed or modified else EXIT_OK


def _load(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except OSError as exc:
        raise UsageError(f"cannot read report {path!r}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"report {path!r} is not JSON: {exc}") from exc
