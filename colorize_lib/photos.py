"""Colorize your own photos with any trained run.

    python -m colorize_lib colorize PATH... -o OUT_DIR [--run RUN_DIR | --experiment NAME --profile P] [--compare]

PATH is an image file or a folder (searched recursively). Each photo, of any size and aspect, is made
gray (its CIELAB L), the L is resized so that its shorter side is the run's training resolution (the
scale at which the model saw whole photos), the model predicts the chroma there, and the AB is
upsampled (bilinear) to the photo's full size and joined with the photo's own full-resolution L: the
output has every detail of the input; only the colour is at the model's resolution, which the eye
forgives (chroma is what JPEG subsamples too). Resizing rather than tiling at full resolution: a tile
of a 3000-pixel photo at a 64- or 96-pixel training resolution shows the model a patch of texture, not
the objects its training crops showed it.

In a notebook, `compare_photo(runs, PATH)` shows the same colorization of one photo against the photo
itself, with a slider between them (widgets in JupyterLab; the static comparison in a headless run).

Every model goes through `inference.infer`, the path the results tables use; its RGB output is
taken back to Lab for the AB (for the RGB models that is their chroma; for the AB and bins models it is
their AB after the gamut clipping the tables see too). Outputs are PNG, written atomically; a file
that cannot be read is reported with its reason and skipped. The exit status is 1 only if nothing
could be colorized.
"""

import argparse
import html
import importlib.util
import io
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from .before_after import BeforeAfter
from .data.validate import ImageRejected, decode_rgb
from .engine import train
from .engine.checkpoint import run_dir_for
from .engine.config import EXPERIMENTS, ExperimentConfig, make_config, notebook_of, study_configs
from .engine.inference import Run, eval_batch_size, infer
from .files import atomic_path
from .model.color import lab_to_rgb, rgb_to_lab

SIDE_MULTIPLE = 16  # the networks halve the input four times


def config_named(name: str, profile: str, data: str = "bundled") -> ExperimentConfig:
    """The config of an experiment by its name: a notebook experiment ('unet_lab') or any run the study
    trains ('unet_classif-field', 'alpha_ablation-a0.5', 'budget-unet_rgb-long')."""
    if name in EXPERIMENTS:
        return make_config(name, profile, data)
    configs: dict[str, ExperimentConfig] = {}
    for c in study_configs(profile, data):
        configs.setdefault(c.name, c)  # the first training seed's run, as the notebooks' tables lead with it
    if name not in configs:
        raise ValueError(f"unknown experiment {name!r}; expected one of {sorted(set(EXPERIMENTS) | set(configs))}")
    return configs[name]


def find_run(name: str, profile: str, data: str = "bundled") -> Path:
    """The run folder of a finished run (every epoch trained); otherwise an error naming the notebook and
    the `make reproduce` that trains it."""
    config = config_named(name, profile, data)
    run_dir = run_dir_for(config)
    if not train.is_finished(run_dir, config.epochs):
        data_arg = "" if data == "bundled" else f" DATA={data}"
        raise FileNotFoundError(
            f"no finished run of {name} for profile {profile!r} and data {data!r} in {run_dir}. "
            f"It is trained by notebooks/{notebook_of(config.name)}.ipynb: run "
            f"`make reproduce PROFILE={profile}{data_arg}` first, or pass --run RUN_DIR"
        )
    return run_dir


def read_photo(path: Path) -> np.ndarray:
    """Decode any image file into (H, W, 3) uint8 RGB (EXIF orientation, CMYK, 16-bit, palette and
    transparency handled as `validate.decode_rgb` does). Raises `ImageRejected` with the reason. A gray
    photo is the normal input here, so unlike the training data no colourfulness is asked for."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageRejected(f"unreadable ({type(e).__name__}: {e.strerror})") from None
    if not data:
        raise ImageRejected("zero-bytes")
    return decode_rgb(io.BytesIO(data))


def model_size(height: int, width: int, resolution: int) -> tuple[int, int]:
    """(h, w) the model sees: the shorter side at `resolution`, the aspect kept, both multiples of 16."""
    scale = resolution / min(height, width)

    def side(n: int) -> int:
        return max(SIDE_MULTIPLE, round(n * scale / SIDE_MULTIPLE) * SIDE_MULTIPLE)

    return side(height), side(width)


def luminance(rgb: np.ndarray) -> torch.Tensor:
    """CIELAB L of a photo (H, W, 3) uint8: (1, 1, H, W), in [0, 100]."""
    photo = torch.from_numpy(np.require(rgb, requirements="CW")).permute(2, 0, 1)[None].float().div_(255.0)
    return rgb_to_lab(photo)[:, :1]


@torch.no_grad()
def predict_ab(run: Run, lum: torch.Tensor) -> torch.Tensor:
    """The model's AB for luminance (N, 1, h, w), L in [0, 100], h and w multiples of 16: (N, 2, h, w),
    run a training batch at a time (tiles of the training size fit as a training batch does)."""
    gray = lab_to_rgb(torch.cat((lum, torch.zeros_like(lum).expand(-1, 2, -1, -1)), dim=1))  # the model reads only L
    cfg = run.config
    pred = infer(run.model, run.task, gray, eval_batch_size(cfg), run.precision).rgb.cpu()
    return rgb_to_lab(pred)[:, 1:]


@torch.no_grad()
def colorize_photo(run: Run, rgb: np.ndarray, side: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(colorized, gray) (H, W, 3) uint8 of a photo (H, W, 3) uint8; both keep the photo's L exactly up to
    8-bit rounding and gamut clipping. The model sees the photo with its shorter side at `side` pixels
    (default: the run's training resolution; bench/colorize_scale.py compares others and tiling)."""
    lum = luminance(rgb)
    h, w = model_size(*lum.shape[2:], side or run.config.resolution)
    small = F.interpolate(lum, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    ab = F.interpolate(predict_ab(run, small), size=lum.shape[2:], mode="bilinear", align_corners=False)
    return photo_from_lab(lum, ab)


def photo_from_lab(lum: torch.Tensor, ab: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(colorized, gray) uint8 photos from full-resolution L (1, 1, H, W) and AB (1, 2, H, W)."""
    colour = lab_to_rgb(torch.cat((lum, ab), dim=1))
    gray = lab_to_rgb(torch.cat((lum, torch.zeros_like(ab)), dim=1))
    return _to_uint8(colour), _to_uint8(gray)


def _to_uint8(rgb: torch.Tensor) -> np.ndarray:
    return rgb[0].mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


DISPLAY_MAX_PX = 640  # a photo's longer side as the comparison of a reader's own photo shows it


class PhotoComparison:
    """One photo file colorized by each run (the `colorize` command's path), truth beside prediction.

    Shown in JupyterLab as widgets (a model menu, a slider that wipes between the photo and its
    colorization, the image redrawn in Python: no script in the output to trust); run headless by
    `make reproduce` (COLORIZE_HEADLESS=1), or without ipywidgets, as the static `BeforeAfter` the HTML
    report can show."""

    def __init__(self, name: str, truth: np.ndarray, colours: dict[str, np.ndarray]):
        self.name, self.truth, self.colours = name, truth, colours

    def static(self) -> BeforeAfter:
        as_tensor = lambda a: torch.from_numpy(np.array(a)).permute(2, 0, 1)[None].float() / 255  # noqa: E731
        return BeforeAfter([self.name], as_tensor(self.truth), {k: as_tensor(v) for k, v in self.colours.items()})

    def widget(self):
        import ipywidgets as widgets

        pick = widgets.Dropdown(options=list(self.colours), description="model")
        slider = widgets.IntSlider(value=50, min=0, max=100, description="truth | model", readout=False)
        image = widgets.Image(format="png", value=self.wiped(pick.value, slider.value))

        def redraw(_change=None) -> None:
            image.value = self.wiped(pick.value, slider.value)

        pick.observe(redraw, "value")
        slider.observe(redraw, "value")
        return widgets.VBox([widgets.HTML(html.escape(self.name)), pick, image, slider])

    def wiped(self, model: str, at: int) -> bytes:
        """PNG of the photo with its left `at` percent true and the rest as `model` colorized it."""
        cut = round(self.truth.shape[1] * at / 100)
        mixed = np.concatenate((self.truth[:, :cut], self.colours[model][:, cut:]), axis=1)
        buffer = io.BytesIO()
        Image.fromarray(mixed).save(buffer, format="PNG")
        return buffer.getvalue()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if os.environ.get("COLORIZE_HEADLESS") == "1" or importlib.util.find_spec("ipywidgets") is None:
            display(self.static())
        else:
            display(self.widget())


def compare_photo(runs: dict, path=None, images=None) -> PhotoComparison:
    """A photo file of yours (any size; `path`), else the first test photo of `images`, through each run
    of `runs` (label -> Run) as `python -m colorize_lib colorize` does it."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"photo {path} does not exist: give the path of an image file")
        photo, name = read_photo(path), path.name
    elif images is not None:
        photo, name = images.test[0].permute(1, 2, 0).cpu().numpy(), images.test_names[0]
    else:
        raise ValueError("compare_photo needs a photo file (path=) or the study's photos (images=)")
    scale = DISPLAY_MAX_PX / max(photo.shape[:2])
    if scale < 1:
        size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
        photo = np.asarray(Image.fromarray(photo).resize(size, Image.Resampling.LANCZOS))
    return PhotoComparison(name, photo, {label: colorize_photo(run, photo)[0] for label, run in runs.items()})


def comparison_strip(gray: np.ndarray, colour: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Input gray | colorized | original, side by side, (H, 3W, 3) uint8."""
    return np.concatenate((gray, colour, original), axis=1)


def save_png(path: Path, rgb: np.ndarray) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(rgb).save(tmp, format="PNG")


def photo_jobs(paths: list[Path], out_dir: Path) -> list[tuple[Path, Path]]:
    """(input file, output PNG) for every file named or found (recursively, hidden ones left out) under
    the folders named. A folder's files keep their relative paths; two inputs that would share an output
    name (a.jpg and a.png) keep their extension in it."""
    jobs, taken = [], set()
    for path in paths:
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [Path(root) / f for f in files if not f.startswith(".")]
            pairs = [(f, f.relative_to(path)) for f in sorted(found, key=lambda f: f.relative_to(path).as_posix())]
        else:  # a file, or a path that does not exist: reported when read
            pairs = [(path, Path(path.name))]
        for file, rel in pairs:
            out = out_dir / rel.with_suffix(".png")
            if out in taken:
                out = out_dir / rel.with_name(f"{rel.stem}_{rel.suffix.lstrip('.')}.png")
            taken.add(out)
            jobs.append((file, out))
    return jobs


def colorize_files(
    run: Run, jobs: list[tuple[Path, Path]], compare: bool = False, log=print
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Colorize each (input, output) pair; returns (outputs written, [(input, reason)] skipped)."""
    done, skipped = [], []
    terminal = sys.stderr.isatty()
    with tqdm(total=len(jobs), desc="colorizing", unit="photo", disable=not terminal, leave=False) as bar:
        for src, out in jobs:
            try:
                rgb = read_photo(src)
            except ImageRejected as e:
                skipped.append((src, e.reason))
                _say(f"skipped {src}: {e.reason}", terminal, log)
            else:
                colour, gray = colorize_photo(run, rgb)
                save_png(out, comparison_strip(gray, colour, rgb) if compare else colour)
                done.append(out)
                _say(f"colorized {src} -> {out} ({rgb.shape[1]}x{rgb.shape[0]})", terminal, log)
            bar.update(1)
    return done, skipped


def _say(line: str, terminal: bool, log) -> None:
    (tqdm.write if terminal and log is print else log)(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m colorize_lib colorize", description="Colorize photos (files or folders) with a trained run."
    )
    parser.add_argument("paths", nargs="+", type=Path, help="image files or folders (searched recursively)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output folder (PNG files)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", type=Path, help="a run folder: data/checkpoints/<model>-<hash>/ with selected.pt")
    which.add_argument("--experiment", help="a trained experiment by name, e.g. unet_lab or unet_classif-field")
    parser.add_argument("--profile", default="cpu", help="profile the experiment was trained with (default cpu)")
    parser.add_argument("--data", default="bundled", help="data source it was trained on (default bundled)")
    parser.add_argument("--compare", action="store_true", help="write input gray | colorized | original strips")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] | mps (default auto)")
    args = parser.parse_args(argv)
    try:
        run_dir = args.run if args.run is not None else find_run(args.experiment, args.profile, args.data)
        run = train.load_run(run_dir, args.device)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"model {run.config.name} ({run.config.model}, resolution {run.config.resolution}) "
        f"from {run_dir} on {run.device}"
    )
    done, skipped = colorize_files(run, photo_jobs(args.paths, args.out), args.compare)
    print(f"{len(done)} colorized into {args.out}, {len(skipped)} skipped")
    for src, reason in skipped:
        print(f"  skipped {src}: {reason}")
    return 0 if done else 1
