"""Real-browser test: the app in headless Chromium shows the Leaflet map, offline.

Starts the README's app command (``streamlit run app.py --server.headless true ...``, what
``make run`` runs) on a free port, drives headless Chromium over the DevTools protocol, waits
for the Leaflet map and the township polygons inside the streamlit-folium iframe, records every
network request and checks none leaves the machine, and saves a screenshot to ``artifacts/``.
It also prints the time from "server ready" to "map drawn" and the size of the map payload.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from qjgeo import load_dataset

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():  # CI installs it (make system-deps)
    pytest.skip("headless Chromium not installed at /usr/bin/chromium", allow_module_level=True)

websockets = pytest.importorskip("websockets")

#: JavaScript run in the page: what the streamlit-folium iframe holds.
PROBE = """
(() => {
  const frames = [...document.querySelectorAll('iframe')];
  for (const f of frames) {
    let doc;
    try { doc = f.contentDocument; } catch (e) { continue; }
    if (!doc) continue;
    const map = doc.querySelector('.leaflet-container');
    if (!map) continue;
    return {
      leaflet: !!(f.contentWindow && f.contentWindow.L),
      containers: doc.querySelectorAll('.leaflet-container').length,
      polygons: doc.querySelectorAll('path.leaflet-interactive').length,
      legend: !!doc.querySelector('.qjgeo-legend'),
      tiles: doc.querySelectorAll('img.leaflet-tile').length,
    };
  }
  return {leaflet: false, containers: 0, polygons: 0, legend: false, tiles: 0,
          frames: frames.length};
})()
"""


#: JavaScript: a viewport point that hits a township polygon (not a marker on top of it).
TOWNSHIP_POINT = """
(() => {
  for (const f of document.querySelectorAll('iframe')) {
    let doc;
    try { doc = f.contentDocument; } catch (e) { continue; }
    if (!doc || !doc.querySelector('.leaflet-container')) continue;
    const fr = f.getBoundingClientRect();
    const paths = [...doc.querySelectorAll('path.leaflet-interactive[stroke="#3b6ea8"]')];
    for (const p of paths) {
      const r = p.getBoundingClientRect();
      for (const fx of [0.5, 0.4, 0.6, 0.3, 0.7]) for (const fy of [0.5, 0.4, 0.6, 0.3, 0.7]) {
        const x = r.left + r.width * fx, y = r.top + r.height * fy;
        if (doc.elementFromPoint(x, y) === p) return {x: fr.left + x, y: fr.top + y};
      }
    }
  }
  return null;
})()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout_s} s")


@pytest.fixture(scope="module")
def server() -> Any:
    """The app, started with the README's command line on a free port."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QJGEO_")}
    env["QJGEO_HOME"] = tempfile.mkdtemp(prefix="qjgeo-home-")  # the app's working copies
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60)
        yield {"port": port, "ready": time.monotonic()}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        tail = log.read()[-3000:].decode("utf-8", "replace")
        log.close()
        if "Traceback" in tail:
            print(tail)


class CDP:
    """A tiny DevTools-protocol client over one websocket (flattened sessions)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.requests: list[str] = []
        self.tasks: set[asyncio.Future[Any]] = set()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if "id" in msg and msg["id"] in self.pending:
                self.pending.pop(msg["id"]).set_result(msg)
            elif msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])
            elif msg.get("method") == "Target.attachedToTarget":
                sid = msg["params"]["sessionId"]
                for method in ("Network.enable", "Runtime.runIfWaitingForDebugger"):
                    task = asyncio.ensure_future(self.send(method, session=sid))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)

    async def send(self, method: str, params: dict | None = None, session: str | None = None):
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})


async def _load_and_wait(cdp: CDP, sid: str, url: str, budget_s: float) -> dict[str, Any]:
    """Navigate; return when the Leaflet map and township polygons are drawn (with timings)."""
    start = time.monotonic()
    await cdp.send("Page.navigate", {"url": url}, session=sid)
    found: dict[str, Any] = {}
    first_title = None
    while time.monotonic() - start < budget_s:
        if first_title is None:
            res = await cdp.send(
                "Runtime.evaluate",
                {"expression": "!!document.querySelector('h1')", "returnByValue": True},
                session=sid,
            )
            if res.get("result", {}).get("value"):
                first_title = time.monotonic() - start
        res = await cdp.send(
            "Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session=sid
        )
        found = res.get("result", {}).get("value") or {}
        if found.get("leaflet") and found.get("polygons", 0) >= 10:
            break
        await asyncio.sleep(0.05)
    found["map_drawn_at"] = time.monotonic()
    found["seconds_to_map"] = found["map_drawn_at"] - start
    found["seconds_to_title"] = first_title
    return found


async def _evaluate(cdp: CDP, sid: str, expression: str) -> Any:
    res = await cdp.send(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=sid
    )
    return res.get("result", {}).get("value")


async def _click_township(cdp: CDP, sid: str) -> str | None:
    """Click a township polygon; return the heading of the panel that opens (or None)."""
    point = await _evaluate(cdp, sid, TOWNSHIP_POINT)
    if not point:
        return None
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        await cdp.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": point["x"], "y": point["y"], "button": "left", "clickCount": 1},
            session=sid,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        heading = await _evaluate(
            cdp, sid, "(document.querySelector('h3') || {}).textContent || null"
        )
        if heading and "township=" in (await _evaluate(cdp, sid, "location.search") or ""):
            return str(heading)
        await asyncio.sleep(0.1)
    return None


async def _drive(url: str, shot: Path, budget_s: float) -> dict[str, Any]:
    profile = Path(tempfile.mkdtemp(prefix="qjgeo-chromium-"))
    proc = subprocess.Popen(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-quic", "--no-first-run",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--remote-debugging-port=0",
            "--window-size=1400,1300", "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().split("\n")[:2]
        async with websockets.connect(f"ws://127.0.0.1:{port}{path}", max_size=50_000_000) as ws:
            cdp = CDP(ws)
            target = await cdp.send("Target.createTarget", {"url": "about:blank"})
            att = await cdp.send(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
            )
            sid = att["sessionId"]
            await cdp.send("Network.enable", session=sid)
            await cdp.send("Page.enable", session=sid)
            await cdp.send("Runtime.enable", session=sid)
            await cdp.send(
                "Target.setAutoAttach",
                {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True},
                session=sid,
            )
            await cdp.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1400, "height": 1300, "deviceScaleFactor": 1, "mobile": False},
                session=sid,
            )
            found = await _load_and_wait(cdp, sid, url, budget_s)
            found["warm"] = await _load_and_wait(cdp, sid, url, budget_s)
            await asyncio.sleep(1.0)  # let rendering settle for the screenshot
            png = await cdp.send("Page.captureScreenshot", {"format": "png"}, session=sid)
            shot.write_bytes(base64.b64decode(png["data"]))
            found["clicked_panel"] = await _click_township(cdp, sid)
            await _evaluate(cdp, sid, "document.querySelector('h3')?.scrollIntoView()")
            await asyncio.sleep(1.0)
            png = await cdp.send("Page.captureScreenshot", {"format": "png"}, session=sid)
            (shot.parent / "app-township-panel.png").write_bytes(base64.b64decode(png["data"]))
            found["requests"] = list(cdp.requests)
            cdp.reader.cancel()
            return found
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_app_map_loads_offline_in_chromium(server: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "app-map.png"
    url = f"http://127.0.0.1:{server['port']}/?page=map&lang=zh"
    found = asyncio.run(_drive(url, shot, budget_s=60))
    ready_to_map = found["map_drawn_at"] - server["ready"]
    print(
        f"\npage title after {found['seconds_to_title'] or float('nan'):.2f} s, "
        f"map drawn {found['seconds_to_map']:.2f} s after navigation "
        f"({ready_to_map:.2f} s after the server reported ready, incl. Chromium start-up); "
        f"{len(found['requests'])} requests; screenshot {shot}; second load: title "
        f"{found['warm']['seconds_to_title'] or float('nan'):.2f} s, map "
        f"{found['warm']['seconds_to_map']:.2f} s"
    )
    assert found.get("leaflet"), found
    assert found.get("containers") == 1, found
    assert found.get("polygons", 0) >= 10, found  # the ten township polygons (+ others)
    assert found.get("legend"), found
    assert found.get("tiles") == 0  # default basemap: none (works offline)
    remote = [
        u
        for u in found["requests"]
        if urlparse(u).scheme in ("http", "https", "ws", "wss")
        and urlparse(u).hostname not in LOCAL_HOSTS
    ]
    assert not remote, remote
    vendored = [u for u in found["requests"] if "/app/static/vendor/" in u]
    assert any("leaflet@" in u and u.endswith("leaflet.js") for u in vendored), vendored
    assert shot.stat().st_size > 10_000
    # clicking a township opens its panel, and the URL names the township
    townships = {str(n) for n in load_dataset().layer("township")["name"]}
    assert found["clicked_panel"] in townships, found["clicked_panel"]
