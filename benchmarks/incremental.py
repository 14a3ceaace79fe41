"""Cold, unchanged and one-file-changed runs of huskycat on a large real project.

Issue 4's benchmarks, in one run of this script, in a temporary git repository holding
the project of ``_project.py`` (a sample of ansible-core's modules with their packages'
``__init__.py``, some of its YAML, and generated TOML, shell scripts, Dockerfiles, an
Ansible role and a GitLab CI file), with every installed catalog tool:

1. Cold run: every tool's own cache empty (``.mypy_cache`` and ``.ruff_cache`` deleted,
   fresh ``XDG_CACHE_HOME`` and ``BLACK_CACHE_DIR``) and huskycat's result cache cleared
   (``huskycat cache clear``). Its wall time is set against the lower bound
   ``max(longest dependency chain, total CPU time / CPUs)``. Each tool's wall and CPU
   time come from running that tool alone, cold, once over all its files, with the
   command huskycat ran (``metadata.argv`` in its JSON report: for a tool huskycat split
   into shards, that is one shard's command, so the part before the file arguments is
   kept and given all the tool's files). The chain follows huskycat's own edges (its
   plan's ``requires`` and ``after``). Target: at most 1.05x the bound. Also the same
   tools one after another (the sum of the alone runs) and the ratio.
2. Nothing changed: the same command again with huskycat's cache warm, timed as a whole
   (a subprocess, interpreter start-up included), ``--repeats`` times, interleaved;
   median and minimum. Target: under 0.5 s. Rows: as a git hook runs it (no report);
   with the ``--json`` report (from which this script reads how many tool processes the
   run started); and, when this environment sets ``PYTHONDONTWRITEBYTECODE``, as is
   (huskycat's modules compiled on every start). Also the git processes it starts.
3. One file changed: a comment line appended to one module. Target: under 1 s plus the
   time of the project-wide tools (mypy, ansible-lint), each run alone in the same state
   (their own caches saved before and restored after, so that huskycat's run finds
   them as the alone runs did).

The huskycat under test is a copy of the installed source taken at the start (on
``PYTHONPATH``): its cache keys cover its own source files, so an edit to the checkout
during the benchmark (other work on a shared machine) would otherwise turn the warm runs
into cold ones. Bytecode goes to a folder of ours (``PYTHONPYCACHEPREFIX``), as an
installed package has it, for huskycat and the tools alike. One untimed full run with
``--no-cache`` comes first: it loads the programs and files into the page cache, writes
the bytecode, and leaves huskycat the duration history a user who ran it before has
(the cold run's priorities come from it; ``cache clear`` keeps the history).

    python benchmarks/incremental.py [--files-limit 250] [--repeats 5] [--jobs N]

About 3 to 4 minutes on 2 CPUs with the defaults: the warm-up, the cold run and the tools
alone take most of it (black most of all). The machine may be shared: the load average
is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import graphlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _busy import Idle, Sampler
from _project import DEFAULT_PACKAGE, build_project

if TYPE_CHECKING:
    from huskycat.planning import Plan, PlannedTool

COLD_TARGET = 1.05  # times the lower bound
WARM_TARGET = 0.5  # seconds
CHANGED_MARGIN = 1.0  # seconds on top of the project-wide tools
EDIT = b"# a line appended by benchmarks/incremental.py\n"


@dataclass(frozen=True)
class Run:
    """One timed command: wall and children's CPU seconds, exit code, JSON report."""

    wall: float
    cpu: float
    code: int
    report: dict[str, Any] | None = None
    idle: Idle | None = None  # CPU-seconds it left unused (with ``busy_cpus``)


def snapshot_huskycat(scratch: Path) -> tuple[Path, str]:
    """Copy the installed huskycat package into ``scratch``: (folder for PYTHONPATH,
    where it came from). Finding it does not import it."""
    spec = importlib.util.find_spec("huskycat")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("benchmarks/incremental.py: huskycat is not installed (pip install -e .)")
    package = Path(next(iter(spec.submodule_search_locations)))
    folder = scratch / "huskycat-source"
    shutil.copytree(package, folder / "huskycat", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-C", str(package)]
    head = _output([*git, "rev-parse", "--short", "HEAD"]).strip()
    changed = _output([*git, "status", "--porcelain", "--", "."]).splitlines()
    where = f"{package}" + (f" (git {head}" if head else "")
    if head:
        where += f", {len(changed)} files changed since)" if changed else ")"
    return folder, where


def _output(argv: Sequence[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else ""


def huskycat(
    root: Path,
    options: Sequence[str],
    env: Mapping[str, str],
    report: Path | None = None,
    *,
    busy_cpus: int = 0,
) -> Run:
    """``huskycat <options>`` as a subprocess, timed; exits on a usage error or crash.
    With ``busy_cpus``, also how many of that many CPUs it left unused (:mod:`_busy`)."""
    from large_project import children_cpu, huskycat_script

    argv = [huskycat_script(), *options]
    if report is not None:
        report.unlink(missing_ok=True)
        argv += ["--json", str(report)]
    cpu, start = children_cpu(), time.perf_counter()
    with subprocess.Popen(
        argv,
        cwd=root,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        sampler = Sampler(proc.pid, busy_cpus).start() if busy_cpus else None
        _, err = proc.communicate()
        wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    idle = sampler.stop() if sampler is not None else None
    if proc.returncode not in (0, 1) or (report is not None and not report.is_file()):
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{err.decode()[-3000:]}")
    data = json.loads(report.read_text()) if report is not None else None
    return Run(wall, cpu, proc.returncode, data, idle)


def python_start(env: Mapping[str, str], repeats: int) -> float:
    """Median wall seconds of ``python -c pass`` with ``env``: the floor of any run."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=dict(env), check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def planned(root: Path, tools: Sequence[str]) -> Plan:
    """huskycat's plan for ``run --all-files --tools <tools>``: files and edges."""
    from huskycat.commands.common import load_config
    from huskycat.files import collect_files
    from huskycat.planning import build_plan

    return build_plan(root, load_config(root), collect_files(root, mode="all"), only=tools)


def _cpu(meta: Mapping[str, Any]) -> str:
    """CPU seconds of a tool's processes in huskycat's run, as its result says them."""
    cpu = meta.get("cpu_seconds")
    return f"{cpu:.2f}s" if isinstance(cpu, (int, float)) else "?"


def alone_argv(argv: Sequence[str], tool: PlannedTool, root: Path) -> list[str]:
    """The command that runs ``tool`` alone over all its files: the part of ``argv``
    (huskycat's first batch of its first shard) before the file arguments, then all of
    them."""
    from huskycat.tools.runner import file_argument

    if not tool.spec.pass_filenames:
        return list(argv)
    targets = tool.spec.targets(tool.files, str(root)) if tool.spec.targets else tool.files
    arguments = [file_argument(t) for t in targets]
    if arguments and arguments[0] in argv:
        cut = argv.index(arguments[0])
        if list(argv[cut:]) == arguments[: len(argv) - cut]:
            return [*argv[:cut], *arguments]
    sys.exit(f"{tool.name}: its file arguments are not at the end of {list(argv)!r}")


def processes(report: Mapping[str, Any]) -> tuple[int, dict[str, str]]:
    """Tool processes a run started (batches of the results not replayed whole from the
    cache; ``--version`` probes not counted), and what each tool that ran checked."""
    count, ran = 0, {}
    for result in report["results"]:
        meta = result["metadata"]
        if result["status"] == "skipped" or meta.get("cached"):
            continue
        count += int(meta.get("batches", 1))
        files = int(meta.get("files", 0)) - int(meta.get("cached_files", 0))
        ran[result["tool_name"]] = f"{files} file{'s' * (files != 1)}"
    return count, ran


def longest_chain(
    weights: Mapping[str, float], edges: Mapping[str, Sequence[str]]
) -> tuple[float, list[str]]:
    """The heaviest path through the graph ``edges`` (tool -> tools it waits for)."""
    graph = {n: [d for d in edges.get(n, ()) if d in weights] for n in weights}
    best: dict[str, tuple[float, list[str]]] = {}
    for name in graphlib.TopologicalSorter(graph).static_order():
        before = max((best[d] for d in graph[name]), default=(0.0, []), key=lambda b: b[0])
        best[name] = (before[0] + weights[name], [*before[1], name])
    return max(best.values(), key=lambda b: b[0], default=(0.0, []))


def tool_caches(root: Path, env: Mapping[str, str]) -> list[Path]:
    """Where the tools keep their own caches: in the project and the user's folder."""
    return [root / ".mypy_cache", root / ".ruff_cache", Path(env["XDG_CACHE_HOME"])]


def save(folders: Sequence[Path], into: Path) -> None:
    """Copy each of ``folders`` that exists into ``into`` (emptied first)."""
    shutil.rmtree(into, ignore_errors=True)
    for index, folder in enumerate(folders):
        if folder.is_dir():
            shutil.copytree(folder, into / str(index), symlinks=True)


def restore(folders: Sequence[Path], saved: Path) -> None:
    """Put ``folders`` back as :func:`save` found them (a missing one stays missing)."""
    for index, folder in enumerate(folders):
        shutil.rmtree(folder, ignore_errors=True)
        if (saved / str(index)).is_dir():
            shutil.copytree(saved / str(index), folder, symlinks=True)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


@dataclass(frozen=True)
class Figure:
    """One line of the summary: what was measured, its target, whether it was met."""

    scenario: str
    seconds: float
    target: str
    met: bool
    bound: float | None = None  # the lower bound it was held to, where there is one


def measure_alone(
    root: Path, scratch: Path, tools: Sequence[str], cold: Run, plan: Plan
) -> dict[str, tuple[float, float, int]]:
    """Each tool of ``cold``'s report run alone and cold over all its files, one after
    another: {name: (wall, CPU seconds, exit code)}."""
    from large_project import cold_caches, run_alone

    from huskycat.tools.catalog import CATALOG

    assert cold.report is not None
    by_name = {r["tool_name"]: r for r in cold.report["results"]}
    env = cold_caches(root, scratch, "alone")
    alone: dict[str, tuple[float, float, int]] = {}
    for name in tools:  # catalog order: every default dependency first
        meta = by_name.get(name, {}).get("metadata", {})
        if "argv" in meta:
            argv = alone_argv(meta["argv"], plan.tools[name], root)
            timed, code = run_alone(argv, root, env, dict(CATALOG[name].env))
            alone[name] = (timed.wall, timed.cpu, code)
    return alone


def lower_bound(
    alone: Mapping[str, tuple[float, float, int]], plan: Plan, cpus: int
) -> tuple[float, list[str], float, float]:
    """(longest chain, its tools, total CPU, the bound max(chain, CPU / cpus)) of the
    tools' ``alone`` runs."""
    edges = {n: (*plan.requires.get(n, ()), *plan.after.get(n, ())) for n in alone}
    chain, path = longest_chain({n: w for n, (w, _, _) in alone.items()}, edges)
    total_cpu = sum(c for _, c, _ in alone.values())
    return chain, path, total_cpu, max(chain, total_cpu / cpus)


def cold_section(
    root: Path, scratch: Path, tools: Sequence[str], cold: Run, plan: Plan, cpus: int
) -> Figure:
    """Each tool alone and cold, the lower bound, and the cold run against it."""
    assert cold.report is not None
    by_name = {r["tool_name"]: r for r in cold.report["results"]}
    alone = measure_alone(root, scratch, tools, cold, plan)

    times = cold.report["statistics"].get("tool_times", {})
    print(f"{'':<13} {'':>5} {'':>6} {'':>7} {'in huskycat':^36} {'alone':^18}  exit codes")
    print(
        f"{'tool':<13} {'files':>5} {'shards':>6} {'batches':>7} {'start':>8} {'end':>8} "
        f"{'took':>8} {'CPU':>9} {'wall':>8} {'CPU':>9}  (huskycat / alone)"
    )
    for name in tools:
        result = by_name.get(name)
        if result is None:
            continue
        meta = result["metadata"]
        if name not in alone:
            why = result["error_message"] or result["status"]
            print(f"{name:<13} {'':>70}  not run: {why}")
            continue
        wall, cpu, code = alone[name]
        codes = "/".join(map(str, meta.get("returncodes") or []))
        when = times.get(name, {})
        print(
            f"{name:<13} {meta.get('files', 0):>5} {meta.get('shards', 1):>6} "
            f"{meta.get('batches', 1):>7} "
            f"{when.get('start', 0):>7.2f}s {when.get('end', 0):>7.2f}s "
            f"{result['duration']:>7.2f}s {_cpu(meta):>9} {wall:>7.2f}s {cpu:>8.2f}s  "
            f"{codes} / {code}"
        )
    ran_cpu = [
        r["metadata"].get("cpu_seconds") for r in by_name.values() if r["tool_name"] in alone
    ]
    if ran_cpu and None not in ran_cpu:
        side = sum(ran_cpu)
        alone_cpu = sum(c for _, c, _ in alone.values())
        print(
            f"CPU of the tools side by side in huskycat {side:.2f}s, one after another alone "
            f"{alone_cpu:.2f}s ({side / alone_cpu - 1:+.1%}); huskycat's own process "
            f"and its git commands {cold.cpu - side:.2f}s"
        )

    chain, path, total_cpu, bound = lower_bound(alone, plan, cpus)
    sequential = sum(w for w, _, _ in alone.values())
    print(f"\nlongest dependency chain (alone wall times): {' -> '.join(path)} {chain:.2f}s")
    print(f"total CPU time alone / CPUs: {total_cpu:.2f}s / {cpus} = {total_cpu / cpus:.2f}s")
    ratio = cold.wall / bound
    print(
        f"huskycat: {cold.wall:.2f}s wall ({cold.cpu:.2f}s CPU, huskycat and its tools) = "
        f"{ratio:.2f}x the lower bound {bound:.2f}s; target <= {COLD_TARGET:.2f}x "
        f"({COLD_TARGET * bound:.2f}s): {verdict(ratio <= COLD_TARGET)}"
    )
    print(
        f"one after another (sum of the alone runs): {sequential:.2f}s wall = "
        f"{sequential / cold.wall:.2f}x huskycat's wall; huskycat "
        f"{'faster' if cold.wall < sequential else 'NOT faster'}"
    )
    print(
        f"CPU use: huskycat and its tools {cold.cpu:.2f}s of {cpus} x {cold.wall:.2f}s = "
        f"{cold.cpu / (cpus * cold.wall):.0%}; alone, one after another {total_cpu:.2f}s of "
        f"{cpus} x {sequential:.2f}s = {total_cpu / (cpus * sequential):.0%} (the rest idle, "
        "or taken by other work on the machine)"
    )
    if cold.idle is not None:
        print(f"left unused by huskycat (whatever the load): {cold.idle.describe(cpus)}")
        # Not a measurement: what the same CPU and idle time would take on CPUs nobody
        # else uses, for a machine too busy to measure that on.
        idle_machine = (cold.cpu + cold.idle.total) / cpus
        print(
            f"estimate for otherwise idle CPUs: (its CPU {cold.cpu:.2f}s + unused "
            f"{cold.idle.total:.2f}s) / {cpus} = {idle_machine:.2f}s = "
            f"{idle_machine / bound:.2f}x the lower bound (CPU alone / CPUs "
            f"{total_cpu / cpus:.2f}s: {idle_machine * cpus / total_cpu:.2f}x)"
        )
    stats = cold.report["statistics"]
    measured = " -> ".join(stats.get("measured_critical_path_tools") or [])
    print(
        f"huskycat's own statistics: sum of tool durations {stats['sum_of_durations']:.2f}s, "
        f"critical path as it ran {measured} {stats['critical_path']:.2f}s, "
        f"{stats['max_workers']} workers, peak {stats['peak_busy_slots']} busy"
    )
    return Figure("cold", cold.wall, f"<= {COLD_TARGET}x {bound:.2f}s", ratio <= COLD_TARGET, bound)


def warm_section(
    root: Path,
    scratch: Path,
    base: Sequence[str],
    env: Mapping[str, str],
    repeats: int,
    *,
    as_is: bool,
) -> list[Figure]:
    """The same run again with nothing changed, in each variant, interleaved; with
    ``as_is`` also without a bytecode cache, as this environment has it."""
    variants: list[tuple[str, dict[str, str], bool]] = [
        ("as a git hook runs it (no report)", dict(env), False),
        ("with the --json report this script reads", dict(env), True),
    ]
    if as_is:
        no_bytecode = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}
        no_bytecode["PYTHONDONTWRITEBYTECODE"] = "1"
        variants.append(("as this environment is: no bytecode cache", no_bytecode, False))
    times: dict[str, list[float]] = {title: [] for title, _, _ in variants}
    started: set[int] = set()
    report = scratch / "warm.json"
    for _ in range(repeats):
        for title, variant_env, with_report in variants:
            run = huskycat(root, base, variant_env, report if with_report else None)
            times[title].append(run.wall)
            if run.report is not None:
                started.add(processes(run.report)[0])
    print(f"{'':<44} {'median':>7} {'min':>7}   each run")
    figures = []
    for title, walls in times.items():
        median = statistics.median(walls)
        each = " ".join(f"{w:.2f}" for w in walls)
        print(f"{title:<44} {median:>6.3f}s {min(walls):>6.3f}s   {each}")
        figures.append(
            Figure(f"unchanged, {title}", median, f"< {WARM_TARGET}s", median < WARM_TARGET)
        )
    counted = ", ".join(map(str, sorted(started)))
    print(f"tool processes started per run (--json runs' reports): {counted}")
    trace = scratch / "git-trace.txt"
    huskycat(root, base, {**env, "GIT_TRACE": str(trace)})
    lines = trace.read_text().splitlines() if trace.exists() else []
    print(f"git processes started per run (GIT_TRACE): {sum('built-in: git' in x for x in lines)}")
    return figures


def changed_section(
    root: Path,
    scratch: Path,
    base: Sequence[str],
    env: Mapping[str, str],
    cold: Run,
    plan: Plan,
) -> Figure:
    """One module with a line appended: the project-wide tools alone, then huskycat in
    the same state (the tools' caches put back between). The module is put back after."""
    from large_project import run_alone

    from huskycat.cache import is_file_local
    from huskycat.tools.catalog import CATALOG

    assert cold.report is not None
    argv = {r["tool_name"]: r["metadata"].get("argv") for r in cold.report["results"]}
    project_wide = [n for n, a in argv.items() if a and not is_file_local(CATALOG[n])]
    python = sorted({f for t in plan.tools.values() for f in t.files if f.endswith(".py")})
    modules = [f for f in python if not f.endswith("__init__.py")]
    edited = modules[len(modules) // 2]
    path = root / edited
    original = path.read_bytes()
    path.write_bytes(original + (b"" if original.endswith(b"\n") else b"\n") + EDIT)
    try:
        caches = tool_caches(root, env)
        saved = scratch / "saved-caches"
        save(caches, saved)
        alone: dict[str, float] = {}
        for name in project_wide:
            command = alone_argv(argv[name], plan.tools[name], root)
            alone[name] = run_alone(command, root, env, dict(CATALOG[name].env))[0].wall
        restore(caches, saved)
        changed = huskycat(root, base, env, scratch / "changed.json")
    finally:
        path.write_bytes(original)
    assert changed.report is not None
    count, ran = processes(changed.report)
    times = changed.report["statistics"].get("tool_times", {})
    span = {n: f"{t.get('start', 0):.2f}-{t.get('end', 0):.2f}s" for n, t in times.items()}
    print(f"edited: {edited} (a comment line appended)")
    print(f"huskycat: {changed.wall:.2f}s wall, {changed.cpu:.2f}s CPU, {count} tool processes")
    print(
        "  ran (from start to end): " + ", ".join(f"{n} on {w} {span[n]}" for n, w in ran.items())
    )
    wide = sum(alone.values())
    print(
        "project-wide tools alone, same state: "
        + ", ".join(f"{n} {s:.2f}s" for n, s in alone.items())
        + f"; sum {wide:.2f}s"
    )
    target = CHANGED_MARGIN + wide
    met = changed.wall < target
    print(
        f"target: under {CHANGED_MARGIN:.0f}s + {wide:.2f}s = {target:.2f}s: {verdict(met)} "
        f"({changed.wall - wide:+.2f}s beyond the project-wide tools' own time)"
    )
    return Figure("one file changed", changed.wall, f"< {target:.2f}s", met)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files-limit", type=int, default=250, help="Python modules to copy")
    parser.add_argument("--yaml-limit", type=int, default=40, help="YAML files to copy")
    parser.add_argument("--package", default=DEFAULT_PACKAGE, help="installed package to copy")
    parser.add_argument("--tools", help="comma-separated tools (default: every installed one)")
    parser.add_argument("--jobs", type=int, help="huskycat --jobs (default: its own, CPUs)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each warm variant")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="huskycat-incremental-"))
    try:
        source, where = snapshot_huskycat(scratch)
        # Every process from here on, this one included, uses the copy and keeps bytecode.
        sys.path.insert(0, str(source))
        as_is = bool(os.environ.pop("PYTHONDONTWRITEBYTECODE", ""))
        os.environ["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(source), os.environ.get("PYTHONPATH", "")) if p
        )
        from large_project import cold_caches, installed_tools, load

        from huskycat import __version__

        installed, missing = installed_tools()
        tools = args.tools.split(",") if args.tools else installed
        cpus = os.cpu_count() or 1
        root = scratch / "project"
        project = build_project(
            root, package=args.package, python_files=args.files_limit, yaml_files=args.yaml_limit
        )
        print(f"huskycat {__version__}: a copy of {where}")
        print(f"project: {project.describe()}")
        print(f"tools ({len(tools)}): {', '.join(tools)}")
        if missing and not args.tools:
            print(f"not installed, left out: {', '.join(missing)}")
        print(
            f"CPUs: {cpus}; huskycat jobs: {args.jobs or 'its default (CPUs)'}; "
            f"python -c pass: {python_start(os.environ, 5):.3f}s (median of 5)"
        )
        print(f"at the start: {load()}")
        sys.stdout.flush()

        base = ["run", "--all-files", "--tools", ",".join(tools), "--no-progress", "-q"]
        base += ["--jobs", str(args.jobs)] if args.jobs else []
        # Untimed: programs into the page cache, bytecode written, and a duration history
        # as a user who ran huskycat before has it (--no-cache: no results stored).
        huskycat(root, [*base, "--no-cache"], cold_caches(root, scratch, "warm-up"))
        env = cold_caches(root, scratch, "huskycat")
        huskycat(root, ["cache", "clear"], env)
        cold = huskycat(root, base, env, scratch / "cold.json")
        plan = planned(root, tools)
        # The alone runs empty the project's tool caches: huskycat's are put back after.
        caches = tool_caches(root, env)
        save(caches, scratch / "after-cold")

        print("\n== 1. cold run: tool caches empty, huskycat's cache cleared")
        figures = [cold_section(root, scratch, tools, cold, plan, cpus)]
        restore(caches, scratch / "after-cold")
        print(f"\n== 2. nothing changed: {args.repeats} runs of each, interleaved")
        figures += warm_section(root, scratch, base, env, args.repeats, as_is=as_is)
        print("\n== 3. one file changed")
        figures.append(changed_section(root, scratch, base, env, cold, plan))

        print(f"\n{'huskycat':<58} {'wall':>8}  target")
        for figure in figures:
            print(
                f"{figure.scenario:<58} {figure.seconds:>7.2f}s  {figure.target}: "
                f"{verdict(figure.met)}"
            )
        print(f"\nat the end: {load()} (other work on the machine skews every figure)")
        if args.keep:
            print(f"kept: {scratch}")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
