"""The Python environment the study runs in: checking a system Python, and writing the exact lock.

Standard library only, and nothing else from colorize_lib but `files`: the Makefile runs this before it
knows whether torch or papermill import at all.

    python -m colorize_tools.environment check [--with pytest]   # ENV=system: can this Python run the study?
    python -m colorize_tools.environment lock REPORT.json OUT.txt  # pip's --report turned into a lock file
    python -m colorize_tools.environment wheelhouse-gaps DIR 3.12   # what a wheel folder still lacks
"""

import argparse
import importlib
import json
import platform
import re
import sys
import zipfile
from pathlib import Path

from colorize_lib.files import atomic_write_text

PYTHON_RANGE = ((3, 11), (3, 14))  # as pyproject.toml's requires-python: >=3.11,<3.14

# Module imported -> the distribution that provides it.
SCIENCE_MODULES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "numpy": "numpy",
    "pandas": "pandas",
    "matplotlib": "matplotlib",
    "skimage": "scikit-image",
    "PIL": "pillow",
}
NOTEBOOK_MODULES = {
    "papermill": "papermill",
    "nbconvert": "nbconvert",
    "nbclient": "nbclient",
    "ipykernel": "ipykernel",
    "tqdm": "tqdm",
    "psutil": "psutil",
}  # the last two: runner, progress
# What `make wheelhouse` downloads: the notebook tools, and pytest for `make test ENV=system`.
WHEELHOUSE_MODULES = {**NOTEBOOK_MODULES, "pytest": "pytest"}

# The project itself is installed from the checkout (`pip install --no-deps -e .`), never from the lock.
_NOT_LOCKED = {"colorize-lib"}


def python_tag() -> str:
    """'3.12' for the running interpreter."""
    return "{}.{}".format(*sys.version_info[:2])


def platform_tag() -> str:
    """'linux-x86_64': a lock holds platform-specific wheels (torch's CUDA libraries on Linux x86_64)."""
    return f"{platform.system().lower()}-{platform.machine().lower()}"


def lock_name(python: str, plat: str) -> str:
    return f"lock-py{python}-{plat}.txt"


def missing_modules(modules: dict[str, str]) -> dict[str, str]:
    """{module: why} for each module that fails to import; a found-but-broken install counts as missing."""
    missing = {}
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as err:  # an ImportError, or a broken build raising anything on import
            missing[module] = f"{type(err).__name__}: {err}".splitlines()[0]
    return missing


def _hint(missing: dict[str, str], modules: dict[str, str]) -> str:
    tag = python_tag()
    lines = []
    tools = [m for m in missing if m in WHEELHOUSE_MODULES]
    science = [m for m in missing if m not in WHEELHOUSE_MODULES]
    if tools:
        lines += [
            "The notebook tools can travel as wheels (no network needed where they are installed):",
            f"  where there is network, in this checkout:   make wheelhouse PYTHON_VERSION={tag}",
            f"  carry .wheelhouse/py{tag}/ with the tree, then here:   make install-wheelhouse",
            f"  (that installs into .wheelhouse/site-py{tag}, which ENV=system puts on PYTHONPATH)",
        ]
    if science:
        dists = " ".join(modules[m] for m in science)
        lines += [
            f"{', '.join(science)} must come with this machine's Python (pip install {dists}, with the",
            "PyTorch build that fits its GPU), or leave out ENV=system to get .venv from the lock.",
        ]
    return "\n".join(lines)


def check_system(modules: dict[str, str]) -> int:
    """Print what this interpreter is and whether it can run the study; 0 if it can, 1 if not."""
    where = f"{sys.executable} (Python {platform.python_version()})"
    low, high = PYTHON_RANGE
    if not low <= sys.version_info[:2] < high:
        print(
            f"error: ENV=system found {where}; the study needs Python >={low[0]}.{low[1]},<{high[0]}.{high[1]}."
            " Point make at another one: PYTHON=/path/to/python3.X",
            file=sys.stderr,
        )
        return 1
    missing = missing_modules(modules)
    if missing:
        print(f"error: ENV=system uses {where} as it is, and it cannot import: {', '.join(missing)}", file=sys.stderr)
        for module, why in missing.items():
            print(f"  {module} ({modules[module]}): {why}", file=sys.stderr)
        print(_hint(missing, modules), file=sys.stderr)
        return 1
    print(f"ENV=system: {where}, torch {sys.modules['torch'].__version__}, nothing installed")
    return 0


def write_lock(report: Path, out: Path) -> int:
    """Turn `pip install --dry-run --ignore-installed --report REPORT` into a sorted `name==version` file."""
    try:
        installs = json.loads(Path(report).read_text())["install"]
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(
            f"report {report}: expected the JSON of `pip install --report` with an 'install' list ({err})"
        ) from err
    pins = sorted(
        (item["metadata"]["name"], item["metadata"]["version"])
        for item in installs
        if item["metadata"]["name"].lower() not in _NOT_LOCKED
    )
    if not any(name.lower() == "torch" for name, _ in pins):
        raise ValueError(f"report {report}: torch is not among the packages it resolved; is it pyproject's?")
    header = [
        f"# Exact versions for the CPU reproduction on Python {python_tag()}, {platform_tag()}.",
        "# `make env` installs these, then the project with --no-deps; `make env LOCK=none` ignores them.",
        "# Written by `make lock` from pip's resolution of pyproject.toml (with [test]) in a fresh venv.",
        "# Do not edit: change pyproject.toml and run `make lock`.",
    ]
    atomic_write_text(out, "\n".join(header + [f"{name}=={version}" for name, version in pins]) + "\n")
    print(f"wrote {out}: {len(pins)} packages")
    return 0


def _requirement_class():
    # `packaging` where the Python has it; pip always carries a copy (pip is what builds the wheelhouse).
    try:
        from packaging.requirements import Requirement
    except ImportError:
        from pip._vendor.packaging.requirements import Requirement
    return Requirement


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_metadata(folder: Path) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, Requires-Dist lines)} for every wheel in `folder`."""
    found = {}
    for wheel in sorted(Path(folder).glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            meta = next(n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
            text = zf.read(meta).decode("utf-8", errors="replace").split("\n\n", 1)[0]
        fields = [line.split(": ", 1) for line in text.splitlines() if ": " in line]
        name = next(v for k, v in fields if k == "Name")
        version = next(v for k, v in fields if k == "Version")
        found[_canonical(name)] = (version, [v for k, v in fields if k == "Requires-Dist"])
    return found


def wheelhouse_gaps(folder: Path, python: str, roots: list[str]) -> list[str]:
    """Requirements of `roots` (and of theirs, recursively) that no wheel in `folder` satisfies, with the
    dependency markers evaluated for Python `python` on Linux x86_64.

    `pip download --python-version` picks wheels for that Python but evaluates markers for the one
    running pip, so papermill's `aiohttp; python_version == "3.12"` is skipped when 3.11 downloads for
    3.12; the Makefile downloads these gaps until there are none.
    """
    if not re.fullmatch(r"3\.\d+", python):
        raise ValueError(f"python={python!r}: expected a version like 3.12")
    if not Path(folder).is_dir():
        raise ValueError(f"wheelhouse {folder}: not a folder; make it with `make wheelhouse`")
    Requirement = _requirement_class()
    env = {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "python_version": python,
        "python_full_version": f"{python}.0",
    }
    wheels = _wheel_metadata(folder)
    gaps, seen = [], set()
    todo = [Requirement(root) for root in roots]
    while todo:
        req = todo.pop()
        key = (_canonical(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        have = wheels.get(key[0])
        if have is None or not req.specifier.contains(have[0], prereleases=True):
            gaps.append(str(req).split(";")[0].strip())
            continue
        for line in have[1]:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({**env, "extra": e}) for e in {"", *req.extras}):
                todo.append(dep)
    return sorted(set(gaps))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorize_tools.environment")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="can this Python run the study as it is (ENV=system)?")
    check.add_argument(
        "--with",
        dest="extra",
        action="append",
        default=[],
        choices=sorted(WHEELHOUSE_MODULES),
        help="also require this module (pytest for make test)",
    )
    lock = sub.add_parser("lock", help="write a lock file from pip's --report JSON")
    lock.add_argument("report", type=Path)
    lock.add_argument("out", type=Path)
    gaps = sub.add_parser("wheelhouse-gaps", help="print what a wheel folder lacks for a Python, one per line")
    gaps.add_argument("folder", type=Path)
    gaps.add_argument("python", help="the target Python, e.g. 3.12")
    gaps.add_argument("roots", nargs="*", default=sorted(WHEELHOUSE_MODULES.values()))
    args = parser.parse_args(argv)
    if args.command == "check":
        modules = {**SCIENCE_MODULES, **NOTEBOOK_MODULES, **{m: WHEELHOUSE_MODULES[m] for m in args.extra}}
        return check_system(modules)
    if args.command == "wheelhouse-gaps":
        print("\n".join(wheelhouse_gaps(args.folder, args.python, args.roots)))
        return 0
    return write_lock(args.report, args.out)


if __name__ == "__main__":
    sys.exit(main())
