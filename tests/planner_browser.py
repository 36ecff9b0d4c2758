"""The planner's six tasks, driven in headless Chromium (Playwright) on the real app.

Shared by the end-to-end test (``tests/test_e2e_browser.py``, which checks the answers) and the
browser benchmark (``bench/bench_app.py``, which reports the times). Every task measures, in
the browser, the time from the planner's action (a click, a page opened) to the answer in the
page, and returns what the page showed so the caller can check it against the library.

Labels are looked up in the app's own texts (:func:`qjgeo.ui.i18n.t`), so the same code drives
the Chinese and the English app.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qjgeo.ui.i18n import t

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
#: A 5-row childcare ledger as a township office keeps it (GCJ-02 coordinates, GBK CSV).
LEDGER_ROWS = [
    ("名称", "经度", "纬度", "托位", "是否普惠", "所属镇"),
    ("曲江区示范托育中心", "113.6151789", "24.6769340", "80", "是", "马坝镇"),
    ("松山街道阳光托育园", "113.6401964", "24.7019592", "40", "否", "松山街道"),
    ("大塘镇小太阳托育点", "113.7072966", "24.7650811", "20", "是", "大塘镇"),
    ("马坝镇新苗托育园", "113.5993000", "24.6702000", "30", "是", "马坝镇"),
    ("白土镇童心托育点", "113.5360000", "24.7210000", "15", "否", "白土镇"),
]

#: JavaScript run in a map iframe: a viewport point on a township polygon (no marker on top).
TOWNSHIP_POINT = """
() => {
  const paths = [...document.querySelectorAll('path.leaflet-interactive[stroke="#3b6ea8"]')];
  for (const p of paths) {
    const r = p.getBoundingClientRect();
    for (const fx of [0.5, 0.4, 0.6, 0.3, 0.7]) for (const fy of [0.5, 0.4, 0.6, 0.3, 0.7]) {
      const x = r.left + r.width * fx, y = r.top + r.height * fy;
      const c = document.querySelector('.leaflet-container').getBoundingClientRect();
      if (document.elementFromPoint(x, y) === p) return {x: x - c.left, y: y - c.top};
    }
  }
  return null;
}
"""


def ledger_gbk() -> bytes:
    """The 5-row childcare ledger, GBK-encoded as Excel on a Chinese Windows saves it."""
    return "\r\n".join(",".join(row) for row in LEDGER_ROWS).encode("gbk") + b"\r\n"


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    """A TCP port nobody listens on (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppServer:
    """A running ``streamlit run app.py`` and where its planner's files go."""

    port: int
    home: Path
    proc: subprocess.Popen[bytes]
    started_at: float
    ready_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout_s} s")


@contextmanager
def app_server(home: Path | None = None, port: int | None = None) -> Iterator[AppServer]:
    """The README's app command (what ``make run`` runs), on a free port, stopped afterwards."""
    port = port or free_port()
    home = home or Path(tempfile.mkdtemp(prefix="qjgeo-home-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("QJGEO_")}
    env["QJGEO_HOME"] = str(home)
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = tempfile.TemporaryFile()
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = AppServer(port, home, proc, started)
    try:
        _wait_http(f"{server.url}/_stcore/health", 90)
        server.ready_at = time.monotonic()
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        tail = log.read()[-4000:].decode("utf-8", "replace")
        log.close()
        if "Traceback" in tail:
            print(tail)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium under Playwright (Playwright's own browsers are not needed)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# --------------------------------------------------------------------------- the planner


@dataclass
class Planner:
    """One planner's browser tab on the app, in one language, with the times it waited."""

    page: Any
    base_url: str
    lang: str
    timeout_ms: float = 60_000
    times: dict[str, float] = field(default_factory=dict)

    def t(self, key: str, **fmt: Any) -> str:
        """The app's text of ``key`` in this planner's language."""
        return t(key, self.lang, **fmt)

    # ---- waiting

    def timed(self, name: str, action: Callable[[], Any], until: Callable[[], Any]) -> Any:
        """Run ``action``, wait for ``until`` (the answer in the page); record the seconds."""
        start = time.monotonic()
        action()
        result = until()
        self.times[name] = time.monotonic() - start
        return result

    def settled(self) -> None:
        """Wait until Streamlit has finished its run (no "running" status)."""
        self.page.wait_for_function(
            "() => !document.querySelector('[data-testid=stStatusWidget]')",
            timeout=self.timeout_ms,
        )

    def main_text(self) -> str:
        return str(self.page.locator("[data-testid=stMain]").inner_text())

    def pattern(self, key: str) -> re.Pattern[str]:
        """The app's text of ``key`` with any number in its fields (``{read}``, …)."""
        parts = re.split(r"\{[^}]*\}", self.t(key))  # the raw template
        return re.compile(r"[\d.,-]+".join(re.escape(p) for p in parts))

    def wait_text(self, text: str | re.Pattern[str], state: str = "visible") -> None:
        """Wait until the main area shows ``text`` (or holds it: ``state="attached"``, e.g.
        in a tab not shown)."""
        self.page.locator("[data-testid=stMain]").get_by_text(text, exact=False).first.wait_for(
            timeout=self.timeout_ms, state=state
        )

    def open(self, page_id: str, **query: str) -> None:
        """Navigate to a page (``?page=…&lang=…``), without waiting for its content."""
        qs = "&".join(f"{k}={v}" for k, v in {"page": page_id, "lang": self.lang, **query}.items())
        self.page.goto(f"{self.base_url}/?{qs}", wait_until="commit")

    def map_frame(self, nth: int = 0, min_paths: int = 10) -> Any:
        """The ``nth`` folium map's frame, once Leaflet has drawn ``min_paths`` vector shapes.

        Streamlit may mount the map's iframe afresh while the page settles; a frame that goes
        away while we wait is looked up again (until the time limit).
        """
        from playwright.sync_api import Error as PlaywrightError

        check = (
            "() => window.L && document.querySelectorAll('path.leaflet-interactive').length"
            f" >= {min_paths}"
        )
        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            left_ms = max(1.0, (deadline - time.monotonic()) * 1000)
            try:
                handle = self.page.locator(MAP_IFRAME).nth(nth).element_handle(timeout=left_ms)
                frame = handle.content_frame()
                if frame is not None:
                    frame.wait_for_function(check, timeout=min(left_ms, 5_000))
                    return frame
            except PlaywrightError:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(0.05)

    def click_map(self, frame: Any, point: dict[str, float]) -> None:
        """Click the map of ``frame`` at ``point`` (pixels from the map's top left corner),
        as the planner's mouse would; whatever lies on top gets the click.

        The whole map is scrolled into view first, as a planner looks at it: a map cut by the
        window's edge scrolls into view when the mouse goes down on it (the focus moves into
        its frame), so the button is released over another spot and Leaflet sees no click.
        """
        frame.frame_element().evaluate("el => el.scrollIntoView({block: 'center'})")
        frame.locator(".leaflet-container").first.click(position=point, timeout=self.timeout_ms)

    def latlng_point(self, frame: Any, lon: float, lat: float) -> dict[str, float]:
        """Where the map of ``frame`` draws ``lon``/``lat`` (pixels from its top left)."""
        return dict(
            frame.evaluate(
                """([lat, lon]) => {
                  const p = window.map.latLngToContainerPoint([lat, lon]);
                  return {x: p.x, y: p.y};
                }""",
                [lat, lon],
            )
        )

    # ---- widgets

    def select(self, label: str, option: str) -> None:
        """Choose ``option`` in the select box labelled ``label``."""
        label_el = self.page.locator("[data-testid=stWidgetLabel]").get_by_text(label, exact=True)
        box = self.page.locator("[data-testid=stSelectbox]").filter(has=label_el).first
        field = box.locator("input")
        field.click()
        wanted = self.page.get_by_role("option", name=option, exact=True).first
        try:
            wanted.wait_for(timeout=2_000)
        except Exception:  # the click focused the box without opening its list
            field.press("ArrowDown")
        wanted.click(timeout=self.timeout_ms)

    def button(self, label: str) -> Any:
        return self.page.get_by_role("button", name=label, exact=False).first

    def download(self, label: str) -> tuple[str, bytes]:
        """Get a file the page offers with one click on its download button: name and bytes.

        The button builds the file on the click; there is no "prepare" step to press first.
        """
        button = self.page.get_by_role("button", name=self.t("exp_download", what=label))
        with self.page.expect_download(timeout=self.timeout_ms) as info:
            button.first.click(timeout=self.timeout_ms)
        dl = info.value
        # the click reruns the page, which gives every download button a new file id:
        # let that run finish before the next button is clicked
        self.page.wait_for_timeout(500)
        self.settled()
        return dl.suggested_filename, Path(dl.path()).read_bytes()


# --------------------------------------------------------------------------- the six tasks


def first_map(planner: Planner) -> dict[str, Any]:
    """Open the app (the Map page) and wait for the map with its township polygons."""
    planner.timed("first map", lambda: planner.open("map"), lambda: planner.map_frame())
    return {"text": planner.main_text()}


def browse_layers(planner: Planner, layer: str) -> dict[str, Any]:
    """Task 1: switch a facility layer on, then click a township and read its panel."""
    page = planner.page
    frame = planner.map_frame()
    markers = frame.evaluate("() => document.querySelectorAll('.leaflet-marker-pane > *').length")
    label = page.locator("[data-testid=stCheckbox]").filter(has_text=layer_title(layer, planner))

    def more_markers() -> int:
        handle = page.wait_for_function(
            """([sel, before]) => {
              const f = document.querySelector(sel);
              const doc = f && f.contentDocument;
              if (!doc || !f.contentWindow.L) return 0;
              const n = doc.querySelectorAll('.leaflet-marker-pane > *').length;
              return n > before ? n : 0;
            }""",
            arg=[MAP_IFRAME, markers],
            timeout=planner.timeout_ms,
        )
        return int(handle.json_value())

    after = planner.timed("layer toggle", lambda: label.first.click(), more_markers)
    planner.settled()
    frame = planner.map_frame()
    point = frame.evaluate(TOWNSHIP_POINT)
    heading = page.locator("[data-testid=stMain] h3").first
    planner.timed(
        "township click",
        lambda: planner.click_map(frame, point),
        lambda: page.wait_for_function(
            "() => location.search.includes('township=')"
            " && document.querySelector('[data-testid=stMain] h3')",
            timeout=planner.timeout_ms,
        ),
    )
    planner.settled()
    return {"markers_before": markers, "markers_after": after, "panel": heading.inner_text()}


def unmet_targets(planner: Planner, expect: str | None = None) -> dict[str, Any]:
    """Task 2: the Indicators page, only the targets not met (read once it shows ``expect``)."""
    counts_prefix = planner.t("ind_district")
    planner.timed(
        "indicators page",
        lambda: planner.open("indicators"),
        lambda: planner.wait_text(counts_prefix),
    )
    planner.settled()
    toggle = planner.page.locator("[data-testid=stCheckbox]").filter(
        has_text=planner.t("ind_only_missed")
    )
    toggle.first.click()
    planner.settled()
    if expect is not None:
        planner.wait_text(expect)
    return {"text": planner.main_text()}


def childcare_gaps(planner: Planner, uncovered: str | None = None) -> dict[str, Any]:
    """Task 3: the Gaps page for childcare: district figures and the gap map.

    ``uncovered``, when given, is the figure the page must show (the library's); the page is
    read once it does (a rerun may redraw the figures after the first settled state), else the
    wait fails.
    """
    planner.timed(
        "gaps page",
        lambda: planner.open("gaps", layer="childcare"),
        lambda: (planner.wait_text(planner.t("gap_metric_uncovered")), planner.map_frame()),
    )
    planner.settled()
    if uncovered is not None:
        planner.wait_text(uncovered)
    return {"text": planner.main_text()}


def layer_title(layer: str, planner: Planner) -> str:
    """A bundled layer's title as the app shows it in the planner's language."""
    from qjgeo import load_dataset

    spec = load_dataset().spec(layer)
    return str(spec.title_zh if planner.lang == "zh" else spec.title_en)


def add_science_venue(
    planner: Planner, lon: float, lat: float, name: str, scenario_name: str
) -> dict[str, Any]:
    """Task 4: on the Scenarios map, click inside a township, add a science venue there,
    compare with the baseline, save the scenario."""
    page = planner.page
    planner.open("scenarios", layer="science_venue")
    name_box = page.get_by_label(planner.t("sc_name"), exact=True)
    name_box.wait_for(timeout=planner.timeout_ms)
    name_box.fill(scenario_name)
    name_box.press("Enter")
    planner.settled()
    frame = planner.map_frame(0)
    point = planner.latlng_point(frame, lon, lat)
    clicked = planner.t("sc_clicked", lon=0.0, lat=0.0).split("0.0")[0]
    planner.timed(
        "map click (point kept)",
        lambda: planner.click_map(frame, point),
        lambda: planner.wait_text(clicked),
    )
    planner.settled()
    caption = page.locator("[data-testid=stMain]").get_by_text(clicked).first.inner_text()
    new_name = page.get_by_label(planner.t("sc_add_name"), exact=True)
    new_name.fill(name)
    new_name.press("Tab")
    planner.settled()
    start = time.monotonic()
    planner.timed(  # the new venue listed among the draft's changes
        "add facility",
        lambda: planner.button(planner.t("sc_add_button")).click(),
        lambda: (
            page.locator("[data-testid=stTable]")  # the draft's changes, in words
            .get_by_text(name)
            .first.wait_for(timeout=planner.timeout_ms)
        ),
    )
    planner.wait_text(planner.t("sc_coverage"), state="attached")  # the comparison drawn
    planner.times["compare (from the add click)"] = time.monotonic() - start
    planner.settled()
    page.get_by_role("tab", name=planner.t("sc_compare")).click()
    panel = page.locator("[data-testid=stTabPanel]").nth(1)
    # short tables are plain HTML (st.table); long ones a canvas with an accessible copy
    panel.locator("[data-testid=stTable] td, [data-testid=stDataFrame] td").first.wait_for(
        timeout=planner.timeout_ms, state="attached"
    )
    compare_text = panel.text_content()
    page.get_by_role("tab", name=planner.t("sc_files")).click()
    saved = planner.t("sc_saved", path="").strip()
    planner.timed(
        "save scenario",
        lambda: planner.button(planner.t("sc_save")).click(),
        lambda: planner.wait_text(saved),
    )
    planner.settled()
    return {"caption": caption, "compare": compare_text, "text": planner.main_text()}


def export_files(planner: Planner) -> dict[str, tuple[str, bytes]]:
    """Task 5: the gap map as PNG and the Excel report, from the Export page."""
    planner.open("export", layer="childcare")
    planner.wait_text(planner.t("exp_maps"))
    planner.settled()
    out = {}
    start = time.monotonic()
    out["png"] = planner.download(planner.t("exp_map_png"))
    planner.times["export PNG"] = time.monotonic() - start
    start = time.monotonic()
    out["xlsx"] = planner.download(planner.t("exp_excel"))
    planner.times["export Excel"] = time.monotonic() - start
    return out


def import_ledger(planner: Planner, ledger: Path) -> dict[str, Any]:
    """Task 6: upload a GBK childcare ledger to the childcare layer and read the check report."""
    page = planner.page
    planner.open("import")
    planner.wait_text(planner.t("imp_intro")[:10])
    planner.settled()
    planner.select(planner.t("imp_layer"), layer_title("childcare", planner))
    planner.settled()
    uploader = page.locator("[data-testid=stFileUploader] input[type=file]")
    rows = planner.pattern("imp_rows")
    planner.timed(
        "import check report",
        lambda: uploader.set_input_files(str(ledger)),
        lambda: planner.wait_text(rows),
    )
    planner.settled()
    planner.select(planner.t("imp_crs"), planner.t("imp_crs_gcj02"))
    planner.settled()
    return {"text": planner.main_text()}


def xlsx_sheets(data: bytes) -> list[str]:
    """The sheet names of an Excel file (it opens)."""
    from openpyxl import load_workbook

    return list(load_workbook(io.BytesIO(data), read_only=True).sheetnames)
