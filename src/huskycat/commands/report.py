"""``huskycat report FORMAT [--from RUN.JSON] [-o PATH]``: a report of a saved run.

Reads the JSON report of ``huskycat run --json`` (standard input by default) and writes
it as SARIF, a Chrome trace, the HTML timeline, GitLab code quality or the Markdown
summary, exactly as ``huskycat run`` would have: a CI job can run the tools once and
make its reports after the fact.
"""

from __future__ import annotations

import argparse
import json
import sys

from huskycat.commands.common import EXIT_OK, UsageError


def cmd_report(args: argparse.Namespace) -> int:
    from huskycat.report.outputs import render, write_report
    from huskycat.report.run_data import SavedReportError, from_json_report, from_report_dict

    try:
        if args.source == "-":
            if sys.stdin.isatty():
                raise UsageError("give the JSON report of `huskycat run --json` with --from PATH")
            try:
                data = json.loads(sys.stdin.read())
            except ValueError as exc:
                raise SavedReportError("-", f"standard input is not JSON ({exc})") from exc
            run = from_report_dict(data, source="-")
        else:
            run = from_json_report(args.source)
    except SavedReportError as exc:
        raise UsageError(str(exc)) from exc
    if args.output is None:
        sys.stdout.write(render(args.format, run))
        return EXIT_OK
    try:
        write_report(args.format, run, args.output)
    except OSError as exc:
        raise UsageError(f"cannot write --output {args.output!r}: {exc.strerror or exc}") from exc
    return EXIT_OK
