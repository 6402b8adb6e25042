"""The library files each notebook depends on: the `colorize_lib` modules its code cells import, and
everything those import in turn. `make` reruns a notebook when one of these changes, so editing the
report checker reruns nothing and editing the losses reruns the notebooks that train.

    python3 -m colorize_tools.notebook_deps notebooks/*.ipynb
    # one line: NAME:FILE,FILE,... per notebook, space-separated, for the Makefile

Standard library only (ast and json): the Makefile runs it with any python3 before the environment exists.
"""

import ast
import json
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "colorize_lib"


def module_files(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """Module name ('colorize_lib.data', 'colorize_lib.data.sources') -> its file, for every module of the package."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_in(tree: ast.AST, here: str, is_package: bool, modules: set[str], parents: bool = True) -> set[str]:
    """The package modules that the code `tree` of module `here` imports, relative or absolute. With
    `parents`, an import of a module also counts the packages above it (their __init__ runs first)."""
    package = here if is_package else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            candidates = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        for c in candidates:
            parts = c.split(".")
            found |= {".".join(parts[:i]) for i in range(1 if parents else len(parts), len(parts) + 1)} & modules
    return found - {here}


def import_graph(root: Path = PROJECT_ROOT) -> dict[str, set[str]]:
    """Each package module -> the package modules it imports directly."""
    files = module_files(root)
    names = set(files)
    return {m: imports_in(ast.parse(p.read_text()), m, p.name == "__init__.py", names) for m, p in files.items()}


def notebook_imports(notebook: Path, modules: set[str]) -> set[str]:
    """The package modules a notebook's code cells import (IPython magics and shell lines skipped)."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    found = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(
            line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        found |= imports_in(ast.parse(code), "__notebook__", False, modules)
    return found


def closure(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += graph.get(m, ())
    return seen


def notebook_files(notebook: Path, root: Path = PROJECT_ROOT) -> list[Path]:
    """Every library file notebook `notebook` runs, directly or through the library, sorted."""
    files = module_files(root)
    graph = import_graph(root)
    return sorted(files[m] for m in closure(notebook_imports(notebook, set(files)), graph))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python3 -m colorize_tools.notebook_deps NOTEBOOK...", file=sys.stderr)
        return 2
    files, graph = module_files(), import_graph()
    rows = []
    for nb in map(Path, argv):
        used = sorted(files[m] for m in closure(notebook_imports(nb, set(files)), graph))
        rows.append(f"{nb.stem}:" + ",".join(p.relative_to(PROJECT_ROOT).as_posix() for p in used))
    print(" ".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
