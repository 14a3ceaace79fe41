"""``--timeline``: the page as a real browser shows it.

Debian's headless Chromium (``apt-get install chromium``; .ci/run installs it) opens the
page of a real run with every network address unresolvable, runs its script, and gives
back the DOM the script built (``--dump-dom``) and a screenshot (``--screenshot``). The
tests read the bars from that DOM (their lanes, positions, colours, hover text) and the
colours from the screenshot's pixels, not from the page's source.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from huskycat.report.timeline import COLORS
from tests.report_trace_test import JOBS, SharedRun, shared_run  # noqa: F401 - the fixture

WINDOW = (1200, 520)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: apt-get install chromium (see .ci/run)")
    return found


def browse(page: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    argv = [
        chromium(),
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing on the network resolves
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={page.parent / 'chromium-profile'}",
        *mode,
        page.resolve().as_uri(),
    ]
    if os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")  # Chromium refuses to run its sandbox as root
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL
    )


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Dom(HTMLParser):
    elements: list[Element] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].text += data

    def with_class(self, name: str) -> list[Element]:
        return [e for e in self.elements if name in e.attrs.get("class", "").split()]


@pytest.fixture(scope="module")
def rendered(shared_run: SharedRun) -> Dom:  # noqa: F811 - the imported fixture
    proc = browse(shared_run.out / "timeline.html", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom()
    dom.feed(proc.stdout)
    return dom


@pytest.fixture(scope="module")
def screenshot(shared_run: SharedRun) -> Image.Image:  # noqa: F811
    target = shared_run.out / "timeline.png"
    proc = browse(shared_run.out / "timeline.html", f"--screenshot={target}")
    assert proc.returncode == 0 and target.is_file(), proc.stderr[-2000:]
    return Image.open(target).convert("RGB")


def test_script_ran_and_drew_a_lane_per_worker_slot(rendered: Dom) -> None:
    [body] = [e for e in rendered.elements if e.tag == "body"]
    assert body.attrs.get("data-rendered") == "true"
    lanes = rendered.with_class("lane")
    assert len(lanes) == JOBS
    assert len({float(lane.attrs["y"]) for lane in lanes}) == JOBS


def test_a_bar_per_call_on_its_slot_coloured_by_outcome(
    rendered: Dom, shared_run: SharedRun  # noqa: F811
) -> None:
    bars = rendered.with_class("bar")
    ruff = next(r for r in shared_run.report["results"] if r["tool_name"] == "ruff")
    shards = ruff["metadata"]["shards"]
    by_tool = Counter(bar.attrs["data-tool"] for bar in bars)
    assert by_tool == {
        "ruff": shards,
        "shellcheck": 1,
        "hadolint": 1,
        "crash": 1,
        "slow": 1,
        "ok": 1,
    }
    outcome = {bar.attrs["data-tool"]: bar.attrs["data-outcome"] for bar in bars}
    assert outcome == {
        "ruff": "findings",
        "shellcheck": "findings",
        "hadolint": "findings",
        "crash": "error",
        "slow": "timeout",
        "ok": "passed",
    }
    for bar in bars:
        assert bar.attrs["fill"] == COLORS[bar.attrs["data-outcome"]]
    # Shards side by side: each on its own slot, starting together.
    ruff_bars = [bar for bar in bars if bar.attrs["data-tool"] == "ruff"]
    assert len({bar.attrs["data-slot"] for bar in ruff_bars}) == shards
    # Positions follow time: a later start is further right, on every lane.
    ordered = sorted(bars, key=lambda bar: float(bar.attrs["data-start"]))
    xs = [float(bar.attrs["x"]) for bar in ordered]
    assert xs == sorted(xs)
    slow = next(bar for bar in bars if bar.attrs["data-tool"] == "slow")
    ok = next(bar for bar in bars if bar.attrs["data-tool"] == "ok")
    assert float(slow.attrs["width"]) > float(ok.attrs["width"])  # 0.6 s against 0.3 s


def test_bars_on_one_lane_never_overlap(rendered: Dom) -> None:
    lanes: dict[str, list[tuple[float, float]]] = {}
    for bar in rendered.with_class("bar"):
        x, width = float(bar.attrs["x"]), float(bar.attrs["width"])
        lanes.setdefault(bar.attrs["y"], []).append((x, x + width))
    for spans in lanes.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end - 2.5, spans  # bars are at least 2 px wide


def test_longest_chain_is_outlined_and_the_lower_bound_is_a_line(
    rendered: Dom, shared_run: SharedRun  # noqa: F811
) -> None:
    chain = set(shared_run.report["statistics"]["measured_critical_path_tools"])
    assert "slow" in chain  # the timed-out tool at the end of the longest chain
    outlined = {b.attrs["data-tool"] for b in rendered.with_class("critical") if b.tag == "rect"}
    assert outlined == chain & {bar.attrs["data-tool"] for bar in rendered.with_class("bar")}
    [line] = rendered.with_class("lower-bound")
    bound = shared_run.report["statistics"]["lower_bound"]
    assert float(line.attrs["data-seconds"]) == pytest.approx(bound)
    # The line stands where the time axis of the bars puts the bound's seconds.
    bars = sorted(rendered.with_class("bar"), key=lambda bar: float(bar.attrs["data-start"]))
    first, last = bars[0], bars[-1]
    t0, t1 = float(first.attrs["data-start"]), float(last.attrs["data-start"])
    x0, x1 = float(first.attrs["x"]), float(last.attrs["x"])
    expected = x0 + (bound - t0) * (x1 - x0) / (t1 - t0)
    assert float(line.attrs["x1"]) == pytest.approx(expected, abs=1.0)


def test_hover_text_says_duration_files_and_counts(rendered: Dom) -> None:
    bars = {bar.attrs["data-label"]: bar for bar in rendered.with_class("bar")}
    tip = bars["shellcheck"].attrs["data-tip"]
    assert "shellcheck — failed" in tip
    assert "1 file\n" in tip and " s (from " in tip
    assert "0 errors, 0 warnings, 1 note" in tip
    ruff_tip = bars["ruff [shard 1]"].attrs["data-tip"]
    assert "41 files" in ruff_tip and "1 error" in ruff_tip
    [title] = [e for e in rendered.elements if e.tag == "title" and e.text == tip]
    assert title.text == tip  # the browser's own tooltip says the same


def test_tools_that_did_not_run_are_listed(rendered: Dom) -> None:
    [item] = rendered.with_class("not-run")
    assert item.attrs["data-tool"] == "needs-crash"
    assert "dependency 'crash' failed" in item.text


def test_the_page_loads_nothing_from_the_network(rendered: Dom) -> None:
    linked = [
        e
        for e in rendered.elements
        if any(e.attrs.get(key) for key in ("src", "href")) or e.tag in ("link", "iframe")
    ]
    assert linked == []


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def test_screenshot_shows_the_bars_in_their_colours(screenshot: Image.Image) -> None:
    assert screenshot.size == WINDOW
    colours = screenshot.getcolors(maxcolors=WINDOW[0] * WINDOW[1]) or []
    white = sum(count for count, pixel in colours if pixel == (255, 255, 255))
    assert white < 0.97 * WINDOW[0] * WINDOW[1]  # not a blank page
    # A bar is a column of at least 20 pixels of its colour (the legend's swatches are 14).
    wanted = {_rgb(COLORS[o]): o for o in ("passed", "findings", "error", "timeout")}
    pixels = screenshot.load()
    assert pixels is not None
    tall: set[str] = set()
    for x in range(WINDOW[0]):
        run_colour, run = None, 0
        for y in range(WINDOW[1]):
            pixel = pixels[x, y]
            run = run + 1 if pixel == run_colour else 1
            run_colour = pixel
            if run == 20 and pixel in wanted:
                tall.add(wanted[pixel])
    assert tall == set(wanted.values())
