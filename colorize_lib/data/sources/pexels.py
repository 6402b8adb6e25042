"""Collect photos the way the authors did (their `dataset.ipynb`, paper §4.1), resumably and within the rate limits.

`GET {base_url}/v1/curated?per_page=80&page=N` with header `Authorization: <key>`; each photo's
`src.large2x` is downloaded, rejected if its mean HSV saturation is below 20 (0-255), resized with
Lanczos so the short side is 512, centre-cropped to 512x512 and saved as JPEG quality 95.

The API key is read from the environment variable PEXELS_API_KEY only, and goes only into the
`Authorization` header of requests to `base_url`: never into a file, a log line or an error.
Progress lives in `manifest.json` beside the photos, rewritten atomically after every photo, so an
interrupted collection resumes where it stopped.
"""

import http.client
import io
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ... import paths
from ...files import atomic_path, atomic_write_text
from ..validate import MIN_SATURATION, ImageRejected, decode_rgb, saturation
from .base import SourceFiles
from .folder import folder_files

PEXELS_API = "https://api.pexels.com"
KEY_VARIABLE = "PEXELS_API_KEY"
PER_PAGE = 80  # the API's maximum
PHOTO_SIZE = 512
JPEG_QUALITY = 95
MANIFEST = "manifest.json"


class PexelsError(RuntimeError):
    """The API or a download failed in a way retrying will not fix now; progress so far is saved."""


@dataclass
class CollectSummary:
    """Outcome of `collect_pexels`: photos now saved in total, photos skipped in this run, and
    whether the curated list ran out before the target."""

    saved: int
    skipped: int
    exhausted: bool
    manifest: Path


class _Client:
    """HTTP GET with bounded retries: waits out 429s and exhausted rate limits, backs off on 5xx,
    connection errors and truncated bodies."""

    def __init__(
        self,
        max_attempts: int,
        backoff_s: float,
        max_wait_s: float,
        timeout_s: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ):
        self.max_attempts, self.backoff_s, self.max_wait_s = max_attempts, backoff_s, max_wait_s
        self.timeout_s, self.sleep, self.clock = timeout_s, sleep, clock
        self.not_before = 0.0  # clock time before which no API request may go out (rate limit spent)

    def _wait_until(self, when: float, url: str) -> None:
        wait = when - self.clock()
        if wait > self.max_wait_s:
            raise PexelsError(
                f"rate limit reached for {url}; it resets at {time.ctime(when)}, "
                f"more than max_wait_s={self.max_wait_s:g} s away: rerun after that to resume"
            )
        if wait > 0:
            self.sleep(wait)

    def _reset_time(self, headers) -> float | None:
        reset = headers.get("X-Ratelimit-Reset") if headers is not None else None
        try:
            return float(reset) if reset is not None else None
        except ValueError:
            return None

    def get(self, url: str, headers: dict[str, str], api: bool) -> tuple[bytes, http.client.HTTPMessage]:
        """Body and headers of a successful GET; raises PexelsError after `max_attempts` failures
        or on a client error (4xx other than 429)."""
        last = ""
        for attempt in range(self.max_attempts):
            if api and self.not_before:
                self._wait_until(self.not_before, url)
                self.not_before = 0.0
            backoff = self.backoff_s * 2**attempt
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers), timeout=self.timeout_s
                ) as response:
                    body = response.read()
                    length = response.headers.get("Content-Length")
                    if length is not None and length.isdigit() and len(body) < int(length):
                        raise http.client.IncompleteRead(body, int(length) - len(body))
                    if api and response.headers.get("X-Ratelimit-Remaining") == "0":
                        self.not_before = self._reset_time(response.headers) or self.clock() + backoff
                    return body, response.headers
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
                if e.code == 429:
                    reset = self._reset_time(e.headers)
                    self._wait_until(reset if reset is not None else self.clock() + backoff, url)
                    continue
                if 500 <= e.code < 600:
                    self.sleep(backoff)
                    continue
                raise PexelsError(f"GET {url} failed: HTTP {e.code} {e.reason}") from None
            except http.client.IncompleteRead as e:
                last = f"truncated body ({len(e.partial)} bytes, {e.expected} missing)"
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as e:
                last = f"{type(e).__name__}: {e}"
            self.sleep(backoff)
        raise PexelsError(f"GET {url} failed after {self.max_attempts} attempts; last error: {last}")


def _api_key() -> str:
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        raise PexelsError(
            f"environment variable {KEY_VARIABLE} is not set: put your Pexels API key there "
            "(https://www.pexels.com/api/) to collect photos; it is never stored"
        )
    return key


def _load_manifest(path: Path) -> dict:
    if not path.exists():
        return {"api": "/v1/curated", "per_page": PER_PAGE, "next_page": 1, "photos": {}, "skipped": {}}
    try:
        state = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise PexelsError(f"Pexels manifest {path} is not valid JSON ({e}); move it away to start afresh") from None
    for key in ("next_page", "photos", "skipped"):
        if key not in state:
            raise PexelsError(f"Pexels manifest {path} lacks '{key}'; move it away to start afresh")
    return state


def _square_photo(rgb: np.ndarray, size: int) -> Image.Image:
    """Lanczos-resize so the short side is `size`, then centre-crop size x size (authors' method)."""
    image = Image.fromarray(rgb, "RGB")
    w, h = image.size
    scale = size / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.LANCZOS)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    return image.crop((left, top, left + size, top + size))


def _photo_image(client: _Client, url: str, size: int, min_saturation: float) -> Image.Image:
    """Download and prepare one photo; raises ImageRejected with the reason to skip it."""
    try:
        body, headers = client.get(url, {"User-Agent": "colorize-lib"}, api=False)
    except PexelsError as e:
        raise ImageRejected(f"download-failed ({e})") from None
    kind = headers.get("Content-Type", "")
    if kind and not kind.startswith("image/"):
        raise ImageRejected(f"not-an-image (content-type {kind})")
    rgb = decode_rgb(io.BytesIO(body))
    h, w = rgb.shape[:2]
    if min(w, h) < size:
        # The authors would upscale; an upscaled photo teaches blur, so it is left out.
        raise ImageRejected(f"too-small ({w}x{h} < {size})")
    s = saturation(rgb)
    if s < min_saturation:
        raise ImageRejected(f"colourless (saturation {s:.1f} < {min_saturation:g})")
    return _square_photo(rgb, size)


def _page_number(next_page: str | None) -> int | None:
    if not next_page:
        return None
    pages = urllib.parse.parse_qs(urllib.parse.urlsplit(next_page).query).get("page")
    if not pages or not pages[0].isdigit():
        raise PexelsError(f"the API's next_page {next_page!r} has no page number")
    return int(pages[0])


def collect_pexels(
    n_photos: int,
    out_dir: Path | None = None,
    base_url: str = PEXELS_API,
    size: int = PHOTO_SIZE,
    min_saturation: float = MIN_SATURATION,
    max_attempts: int = 5,
    backoff_s: float = 1.0,
    max_wait_s: float = 3600.0,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> CollectSummary:
    """Save up to `n_photos` curated Pexels photos into `out_dir` (default `paths.RAW_DIR / 'pexels'`),
    resuming an earlier run there.

    Needs the API key in the environment variable PEXELS_API_KEY. `sleep` and `clock` are
    injectable so tests need not wait for real rate-limit windows.
    """
    if n_photos < 1:
        raise ValueError(f"parameter 'n_photos' = {n_photos!r} is invalid: expected a positive count")
    key = _api_key()
    out_dir = Path(out_dir or paths.RAW_DIR / "pexels")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    state = _load_manifest(manifest_path)
    photos, skipped = state["photos"], state["skipped"]
    client = _Client(max_attempts, backoff_s, max_wait_s, timeout_s, sleep, clock)
    page, n_skipped = state["next_page"], 0
    api_headers = {"Authorization": key, "User-Agent": "colorize-lib"}

    def save_state() -> None:
        atomic_write_text(manifest_path, json.dumps(state, indent=1, sort_keys=True) + "\n")

    while len(photos) < n_photos and page is not None:
        # Always build the URL from base_url (never follow next_page verbatim): the key goes to one host.
        url = f"{base_url.rstrip('/')}/v1/curated?per_page={PER_PAGE}&page={page}"
        body, _ = client.get(url, api_headers, api=True)
        try:
            listing = json.loads(body)
            entries = listing["photos"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise PexelsError(f"GET {url} returned no photo list ({type(e).__name__}: {e})") from None
        for entry in entries:
            if len(photos) >= n_photos:
                break
            if not isinstance(entry, dict) or "id" not in entry:
                raise PexelsError(f"GET {url} listed a photo without an id: {str(entry)[:80]}")
            pid = str(entry["id"])
            if pid in photos or pid in skipped:
                continue  # done in an earlier run
            record = {"id": entry["id"], "photographer": entry.get("photographer", ""), "page": page}
            file = out_dir / f"pexels_{pid}.jpg"
            if not file.exists():  # else saved just before an interruption: only the record is missing
                try:
                    src = (entry.get("src") or {}).get("large2x")
                    if not src:
                        raise ImageRejected("no-url (the listing has no src.large2x)")
                    image = _photo_image(client, src, size, min_saturation)
                    with atomic_path(file) as tmp:
                        image.save(tmp, "JPEG", quality=JPEG_QUALITY)
                except ImageRejected as e:
                    skipped[pid] = dict(record, reason=e.reason)
                    n_skipped += 1
                    save_state()
                    continue
            photos[pid] = dict(record, file=file.name)
            save_state()
        else:
            page = state["next_page"] = _page_number(listing.get("next_page"))
            save_state()
    return CollectSummary(saved=len(photos), skipped=n_skipped, exhausted=page is None, manifest=manifest_path)


def pexels_files(folder: Path | None = None) -> SourceFiles:
    """The collected photos (default `paths.RAW_DIR / 'pexels'`) as a folder source, with each
    photo's Pexels id and photographer."""
    folder = Path(folder or paths.RAW_DIR / "pexels")
    manifest = folder / MANIFEST
    if not manifest.exists():
        raise FileNotFoundError(
            f"no Pexels collection in {folder} ({MANIFEST} missing): run "
            f"colorize_lib.data.sources.pexels.collect_pexels(n_photos) with {KEY_VARIABLE} set"
        )
    files = folder_files(folder, source="pexels")
    files.slug = "pexels"
    by_file = {p["file"]: p for p in _load_manifest(manifest)["photos"].values()}
    files.extra = {
        name: {"pexels_id": str(by_file[name]["id"]), "photographer": by_file[name]["photographer"]}
        for name in files.names
        if name in by_file
    }
    return files
