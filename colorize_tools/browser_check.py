"""Open HTML reports in headless Chromium and fail on anything a reader would see go wrong.

    python -m colorize_tools.browser_check reports [--screenshot NAME ...]

Checks every `*.html` in the folder (or each file given): a console error, an uncaught exception,
a request to anything but a file: or data: URL (a report must read offline), an image that does
not load, or a before/after comparison (colorize_lib/before_after.py) whose slider does not change what
is visible: each slider is moved to both ends as a reader would drag it (an `input` event), and the
photo is photographed at each end; the two pictures must differ. Saves a screenshot of each report
named (default: the first numbered one) as `FOLDER/check/NAME.png`. Needs Chromium (Debian: `apt-get
install chromium`); it is driven over the DevTools protocol on a websocket, with a fresh profile and
every network request sent to a dead proxy, so a check never reaches the network even when a page
asks to.
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websocket

from colorize_lib.files import atomic_path

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    # Requests the check lets through would otherwise go out: send them to a closed local port.
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]
LOCAL_SCHEMES = ("file:", "data:")
WIDTH, HEIGHT, MAX_SHOT_HEIGHT = 1200, 900, 6000

# Every <img>, lazy ones included, must decode; returns the sources of those that do not.
BROKEN_IMAGES_JS = """(async () => {
  const broken = [];
  await Promise.all(Array.from(document.images).map(async (img) => {
    img.loading = 'eager';
    try { await img.decode(); } catch (e) { broken.push((img.getAttribute('src') || '(no src)').slice(0, 120)); }
  }));
  return broken;
})()"""

# Before/after comparisons: move slider `i` to `value` as a drag does, then give its photo's box.
SLIDER_JS = """((i, value) => {
  const slider = document.querySelectorAll('figure.compare input[type=range]')[i];
  slider.scrollIntoView({block: 'center'});
  slider.value = value;
  slider.dispatchEvent(new Event('input', {bubbles: true}));
  const box = slider.previousElementSibling.getBoundingClientRect();
  return {x: box.left + window.scrollX, y: box.top + window.scrollY, width: box.width, height: box.height};
})"""
MAX_SLIDERS = 12  # per page: every model's photos on a Table 1 page, a sample of them elsewhere


class Chromium:
    """A headless Chromium with a throwaway profile, driven over one DevTools websocket."""

    def __init__(self, binary: str = CHROMIUM, timeout: float = 30.0):
        if not Path(binary).exists():
            raise FileNotFoundError(
                f"Chromium binary {binary} not found: install it (apt-get install -y chromium) or pass binary="
            )
        self.timeout = timeout
        self.profile = Path(tempfile.mkdtemp(prefix="browser-check-"))
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.events: list[dict] = []
        self.sliders_dragged = 0  # comparison sliders exercised over every page checked
        self._next_id = 0
        try:
            self.ws = websocket.create_connection(self._devtools_url(), timeout=timeout, suppress_origin=True)
        except BaseException:
            self.close()
            raise

    def _devtools_url(self) -> str:
        # Chromium writes the port it picked, and the browser endpoint's path, into the profile.
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Chromium exited with status {self.process.returncode} before it could be driven")
            lines = active.read_text().split() if active.exists() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise TimeoutError(f"Chromium did not open its DevTools port within {self.timeout:.0f} s")

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one DevTools command and wait for its answer; events arriving meanwhile are kept."""
        self._next_id += 1
        message = dict(id=self._next_id, method=method, params=params or {})
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"DevTools {method} failed: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e["method"] == method and e.get("sessionId") == session for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {self.timeout:.0f} s")
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            reply = json.loads(self.ws.recv())
            if "method" in reply:
                self.events.append(reply)

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _problems(events: list[dict], session: str) -> list[str]:
    found = []
    for event in (e for e in events if e.get("sessionId") == session):
        method, params = event["method"], event["params"]
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            found.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(
                f"uncaught exception: {details.get('exception', {}).get('description') or details.get('text')}"
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            found.append(f"console error: {entry['text']}" + (f" ({entry['url'][:120]})" if entry.get("url") else ""))
        elif method == "Network.requestWillBeSent" and not params["request"]["url"].startswith(LOCAL_SCHEMES):
            found.append(f"request to a non-local URL: {params['request']['url'][:200]}")
    return found


def check_page(browser: Chromium, page: Path, screenshot: Path | None = None) -> list[str]:
    """Load `page` and return what went wrong (empty when it reads cleanly); optionally save a PNG of it."""
    page = Path(page).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"report {page} does not exist")
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=session)
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            dict(width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False),
            session=session,
        )
        navigated = browser.call("Page.navigate", {"url": page.as_uri()}, session=session)
        if navigated.get("errorText"):
            return [f"page did not load: {navigated['errorText']}"]
        browser.wait_for("Page.loadEventFired", session)
        broken = browser.call(
            "Runtime.evaluate",
            dict(expression=BROKEN_IMAGES_JS, awaitPromise=True, returnByValue=True),
            session=session,
        )["result"]["value"]
        stuck = exercise_sliders(browser, session)
        if screenshot is not None:
            height = browser.call("Page.getLayoutMetrics", session=session)["cssContentSize"]["height"]
            shot = browser.call(
                "Page.captureScreenshot",
                dict(
                    format="png",
                    captureBeyondViewport=True,
                    clip=dict(x=0, y=0, width=WIDTH, height=min(max(height, HEIGHT), MAX_SHOT_HEIGHT), scale=1),
                ),
                session=session,
            )
            with atomic_path(screenshot, suffix=".png") as tmp:
                tmp.write_bytes(base64.b64decode(shot["data"]))
        problems = _problems(browser.events, session) + [f"broken image: {src}" for src in broken]
        return problems + [f"comparison slider {i} does not change the photo" for i in stuck]
    finally:
        browser.call("Target.closeTarget", {"targetId": target})


def exercise_sliders(browser: Chromium, session: str) -> list[int]:
    """Drag every comparison slider (up to MAX_SLIDERS) to 0 and to 100; return those whose photo looked
    the same at both ends. Leaves each at 50, where the report starts it."""
    count = browser.call(
        "Runtime.evaluate",
        dict(expression="document.querySelectorAll('figure.compare input[type=range]').length", returnByValue=True),
        session=session,
    )["result"]["value"]
    stuck = []
    browser.sliders_dragged += min(count, MAX_SLIDERS)
    for i in range(min(count, MAX_SLIDERS)):
        shots = []  # the first, at the start position, only lets the scrolled page settle before the two that count
        for value in (50, 0, 100, 50):
            box = browser.call(
                "Runtime.evaluate",
                dict(expression=f"{SLIDER_JS}({i}, {value})", returnByValue=True),
                session=session,
            )["result"]["value"]
            shot = browser.call(
                "Page.captureScreenshot",
                dict(format="png", captureBeyondViewport=True, clip=dict(box, scale=1)),
                session=session,
            )
            shots.append(shot["data"])
        if shots[1] == shots[2]:
            stuck.append(i)
    return stuck


def check_reports(
    pages: list[Path], screenshots: dict[Path, Path] | None = None, binary: str = CHROMIUM
) -> tuple[dict[Path, list[str]], int]:
    """(problems per page, every page a key; comparison sliders dragged); `screenshots` maps pages to the
    PNG each is saved as."""
    screenshots = screenshots or {}
    with Chromium(binary) as browser:
        problems = {page: check_page(browser, page, screenshots.get(page)) for page in pages}
        return problems, browser.sliders_dragged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorize_tools.browser_check", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="report folders (every *.html in them) or .html files")
    parser.add_argument(
        "--screenshot", action="append", help="stem of a page to photograph, repeatable (default: the first report)"
    )
    parser.add_argument("--chromium", default=CHROMIUM, help=f"Chromium binary (default {CHROMIUM})")
    args = parser.parse_args(argv)
    pages = []
    for path in args.paths:
        if path.is_dir():
            pages += sorted(path.glob("*.html"))
        elif path.suffix == ".html" and path.is_file():
            pages.append(path)
        else:
            parser.error(f"path {path} is neither a folder nor an existing .html file")
    if not pages:
        parser.error(f"no .html files in {', '.join(map(str, args.paths))}: render the reports first")
    numbered = [p for p in pages if p.name[:2].isdigit()] or pages
    shot_pages = []
    for stem in args.screenshot or [numbered[0].stem]:
        page = next((p for p in pages if p.stem == stem), None)
        if page is None:
            parser.error(f"--screenshot {stem}: no such page among {[p.stem for p in pages]}")
        shot_pages.append(page)
    shots = {page: page.parent / "check" / f"{page.stem}.png" for page in shot_pages}
    results, dragged = check_reports(pages, shots, args.chromium)
    failed = 0
    for page, problems in results.items():
        for problem in problems:
            print(f"{page}: {problem}")
        failed += bool(problems)
    named = ", ".join(str(shot) for shot in shots.values())
    print(
        f"checked {len(pages)} pages in Chromium: {failed} with problems; {dragged} comparison sliders dragged; "
        f"screenshot {named}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
