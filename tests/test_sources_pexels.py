"""Pexels collection against a local server that answers like the API, failures included."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image

from colorize_lib.data.cache import load_cached, read_manifest
from colorize_lib.data.sources.pexels import PexelsError, collect_pexels, pexels_files
from colorize_lib.data.validate import saturation

KEY = "test-key-not-secret-123"


def jpeg(seed: int, w: int = 600, h: int = 560, gray: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    if gray:
        small[..., 1] = small[..., 2] = small[..., 0]
    out = io.BytesIO()
    Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC).save(out, "JPEG", quality=95)
    return out.getvalue()


class FakeTime:
    """An injectable clock and sleep: sleeping advances the clock instantly and is recorded."""

    def __init__(self):
        self.now, self.sleeps = 1_000_000.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakePexels:
    """Page 1: a 429 first, then 4 photos with the rate limit spent for 60 s. Page 2: a 503 first,
    then 3 photos and no next page. Images: good, colourless, truncated once, HTML, two 500s then
    good, truncated always (no length), random bytes labelled JPEG."""

    def __init__(self, time: FakeTime):
        self.time, self.hits, self.image_auth = time, {}, []
        self.api_calls: list[tuple[str, float]] = []  # (page, clock time of the request)
        self.resets: dict[str, float] = {}  # page -> X-Ratelimit-Reset it answered with
        self.api_failures = {"1": "429", "2": "503"}
        self.api_always_fails = False
        self.images = {"1": jpeg(1), "2": jpeg(2, gray=True), "3": jpeg(3), "5": jpeg(5), "6": jpeg(6), "8": jpeg(8)}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, code: int, body: bytes, kind: str, headers: dict | None = None, length: int | None = None):
                self.send_response(code)
                self.send_header("Content-Type", kind)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlsplit(self.path)
                count = fake.hits[url.path + "?" + url.query] = fake.hits.get(url.path + "?" + url.query, 0) + 1
                if url.path == "/v1/curated":
                    fake.api(self, parse_qs(url.query), count)
                else:
                    fake.image_auth.append(self.headers.get("Authorization"))
                    fake.image(self, url.path.rsplit("/", 1)[-1], count)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default) per test.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def listing(self, ids: list[int], next_page: str | None) -> bytes:
        photos = [
            {"id": i, "photographer": f"Photographer {i}", "src": {"large2x": f"{self.base}/img/{i}", "tiny": "unused"}}
            for i in ids
        ]
        return json.dumps({"page": 1, "per_page": 80, "photos": photos, "next_page": next_page}).encode()

    def api(self, h, query: dict, count: int):
        if h.headers.get("Authorization") != KEY:
            return h.send(401, b'{"error": "bad key"}', "application/json")
        assert query["per_page"] == ["80"]
        page = query["page"][0]
        self.api_calls.append((page, self.time.now))
        if self.api_always_fails:
            return h.send(502, b"bad gateway", "text/plain")
        if count == 1 and self.api_failures.get(page) == "429":
            reset = str(int(self.time.now + 30))
            self.resets["429"] = float(reset)
            return h.send(429, b"slow down", "text/plain", {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": reset})
        if count == 1 and self.api_failures.get(page) == "503":
            return h.send(503, b"busy", "text/plain")
        if page == "1":
            # next_page on another host: the client must build its own URL and keep the key local.
            body = self.listing([1, 2, 3, 4], "https://elsewhere.invalid/v1/curated/?page=2&per_page=80")
            self.resets["1"] = self.time.now + 60
            return h.send(
                200,
                body,
                "application/json",
                {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": str(int(self.resets["1"]))},
            )
        return h.send(200, self.listing([5, 6, 7, 8], None), "application/json", {"X-Ratelimit-Remaining": "10"})

    def image(self, h, pid: str, count: int):
        if pid == "3" and count == 1:  # cut short once, with an honest length
            body = self.images["3"]
            return h.send(200, body[:1000], "image/jpeg", length=len(body))
        if pid == "4":
            return h.send(200, b"<html>a page, not a photo</html>", "text/html")
        if pid == "5" and count <= 2:
            return h.send(500, b"oops", "text/plain")
        if pid == "6":  # always cut short, no length: only decoding notices
            return h.send(200, self.images["6"][:2000], "image/jpeg")
        if pid == "7":
            return h.send(200, np.random.default_rng(7).bytes(5000), "image/jpeg")
        return h.send(200, self.images[pid], "image/jpeg", length=len(self.images[pid]))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setenv("PEXELS_API_KEY", KEY)
    time = FakeTime()
    fake = FakePexels(time)
    yield fake, time
    fake.close()


def collect(fake: FakePexels, time: FakeTime, out: Path, n: int, **kwargs):
    return collect_pexels(
        n, out, base_url=fake.base, sleep=time.sleep, clock=time.clock, backoff_s=0.5, timeout_s=5, **kwargs
    )


def test_collects_validates_and_records(api, tmp_path):
    fake, time = api
    out = tmp_path / "pexels"
    summary = collect(fake, time, out, 10)
    assert (summary.saved, summary.skipped, summary.exhausted) == (4, 4, True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["photos"]) == ["1", "3", "5", "8"]
    assert manifest["photos"]["3"] == {"id": 3, "photographer": "Photographer 3", "page": 1, "file": "pexels_3.jpg"}
    reasons = {k: v["reason"].split(" ")[0] for k, v in manifest["skipped"].items()}
    assert reasons == {"2": "colourless", "4": "not-an-image", "6": "truncated", "7": "not-an-image"}
    assert manifest["skipped"]["4"]["reason"] == "not-an-image (content-type text/html)"
    for pid in ("1", "3", "5", "8"):
        image = Image.open(out / f"pexels_{pid}.jpg")
        assert image.format == "JPEG" and image.size == (512, 512)
        assert saturation(np.asarray(image.convert("RGB"))) >= 20
    # Waited out the 429 and the spent limit (no API call before each reset); backed off on 5xx.
    pages = [page for page, _ in fake.api_calls]
    assert pages == ["1", "1", "2", "2"]
    assert fake.api_calls[1][1] >= fake.resets["429"] and fake.api_calls[2][1] >= fake.resets["1"]
    assert time.sleeps[0] == 30.0 and max(time.sleeps) < 60
    assert sorted(time.sleeps[1:]) == [0.5, 0.5, 0.5, 1.0, 59.5]  # truncated 3, 500 x2 on 5, 503 on page 2
    # The key went only to the API, and is written nowhere.
    assert fake.image_auth and not any(fake.image_auth)
    assert all(KEY.encode() not in p.read_bytes() for p in out.iterdir())
    assert not any("elsewhere" in k for k in fake.hits)


def test_resumes_without_downloading_again(api, tmp_path):
    fake, time = api
    out = tmp_path / "pexels"
    first = collect(fake, time, out, 1)
    assert (first.saved, first.exhausted) == (1, False)
    assert json.loads((out / "manifest.json").read_text())["next_page"] == 1  # page 1 not finished yet
    second = collect(fake, time, out, 10)
    assert second.saved == 4
    assert fake.hits["/img/1?"] == 1  # saved in the first run, not fetched again
    assert fake.hits["/img/2?"] == 1
    # A photo written just before an interruption (file saved, record not) is kept, not refetched.
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["photos"]["8"]
    manifest["next_page"] = 2
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert collect(fake, time, out, 10).saved == 4
    assert fake.hits["/img/8?"] == 1


def test_loads_like_a_folder_with_ids_in_the_cache_manifest(api, tmp_path):
    fake, time = api
    out = tmp_path / "pexels"
    collect(fake, time, out, 10)
    files = pexels_files(out)
    assert files.source == "pexels" and files.slug == "pexels"
    data = load_cached(files, 64, cache_root=tmp_path / "cache")
    assert sorted(data.train_names + data.test_names) == [
        "pexels_1.jpg",
        "pexels_3.jpg",
        "pexels_5.jpg",
        "pexels_8.jpg",
    ]
    rows = {r["file"]: r for r in read_manifest(data.cache_dir)}
    assert rows["pexels_5.jpg"]["pexels_id"] == "5" and rows["pexels_5.jpg"]["photographer"] == "Photographer 5"


def test_errors(api, tmp_path, monkeypatch):
    fake, time = api
    with pytest.raises(FileNotFoundError, match="collect_pexels"):
        pexels_files(tmp_path / "nothing")
    # Persistent 5xx: bounded attempts with exponential backoff, then a clear error.
    fake.api_always_fails = True
    with pytest.raises(PexelsError, match=r"failed after 3 attempts; last error: HTTP 502"):
        collect(fake, time, tmp_path / "p", 5, max_attempts=3)
    assert time.sleeps[-3:] == [0.5, 1.0, 2.0]
    fake.api_always_fails = False
    # A rate-limit reset too far away stops the run (progress kept) instead of sleeping for hours.
    with pytest.raises(PexelsError, match="rate limit reached"):
        collect(fake, time, tmp_path / "p", 5, max_wait_s=10)
    monkeypatch.delenv("PEXELS_API_KEY")
    with pytest.raises(PexelsError, match="PEXELS_API_KEY is not set"):
        collect(fake, time, tmp_path / "p", 5)
    monkeypatch.setenv("PEXELS_API_KEY", "wrong")
    with pytest.raises(PexelsError, match="HTTP 401") as err:
        collect(fake, time, tmp_path / "p", 5)
    assert "wrong" not in str(err.value)
