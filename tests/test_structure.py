"""The package's shape: imports point one way (no cycle), and no function imports inside itself to dodge one."""

import ast
from pathlib import Path

from colorize_tools.notebook_deps import imports_in

PACKAGE = Path(__file__).resolve().parent.parent / "colorize_lib"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """colorize_lib modules that `path` imports (relative or absolute), anywhere in the file."""
    return imports_in(ast.parse(path.read_text()), module_name(path), path.name == "__init__.py", modules, False)


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: imported_modules(p, set(files)) for m, p in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n) :] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_science_package_imports_nothing_from_the_tooling():
    tooling = Path(__file__).resolve().parent.parent / "colorize_tools"
    tool_modules = {f"colorize_tools.{p.stem}" for p in tooling.glob("*.py")} | {"colorize_tools"}
    for path in PACKAGE.rglob("*.py"):
        imported = imported_modules(path, tool_modules)
        assert not imported, f"{path.name} imports the tooling: {imported}"
    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    for nb in notebooks.glob("*.ipynb"):
        assert "colorize_tools" not in nb.read_text(), nb.name


def test_no_import_cycle_in_colorize_lib():
    graph = import_graph()
    assert "colorize_lib.data" in graph and "colorize_lib.data.cache" in graph["colorize_lib.data"]
    assert find_cycle(graph) is None


def test_the_data_layer_reads_like_the_pipeline():
    graph = import_graph()
    order = [
        "colorize_lib.data.sources",
        "colorize_lib.data.validate",
        "colorize_lib.data.split",
        "colorize_lib.data.cache",
        "colorize_lib.data",
    ]
    for i, later in enumerate(order):
        for earlier in order[i + 1 :]:
            assert earlier not in graph[later], f"{later} imports {earlier}: the arrows must point down the pipeline"


# The layers, lowest first: a module may import from its own layer and the ones below, never from above.
LAYERS = ("base", "data", "model", "engine", "scoring", "vocabulary")
# Base: the package itself (its __init__ holds the version), paths, files, the paper's numbers and claims.
BASE = {"colorize_lib", "colorize_lib.paths", "colorize_lib.files"} | {
    "colorize_lib.reference",
    "colorize_lib.paper_claims",
}


def layer_of(module: str) -> str:
    if module in BASE:
        return "base"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("data", "model", "engine", "scoring"):
        return parts[1]
    return "vocabulary"  # the notebooks' words on top: study chapters, tables, plots, reports, colorize


def test_no_import_runs_from_a_lower_layer_to_a_higher_one():
    upward = [
        f"{m} ({layer_of(m)}) imports {n} ({layer_of(n)})"
        for m, imported in import_graph().items()
        for n in imported
        if LAYERS.index(layer_of(n)) > LAYERS.index(layer_of(m))
    ]
    assert upward == []
    assert layer_of("colorize_lib.engine.tasks") == "engine" and layer_of("colorize_lib.study") == "vocabulary"


def test_the_engine_is_a_few_modules_and_keeps_no_batch_norm_of_its_own():
    engine = sorted(p.stem for p in (PACKAGE / "engine").glob("*.py") if p.stem != "__init__")
    assert len(engine) <= 6, engine
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        norms = [c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and "BatchNorm" in c.name]
        assert not norms, f"{path.name} defines {norms}: torch has nn.BatchNorm2d and nn.SyncBatchNorm"


def _main_guard_is_last(tree: ast.Module) -> bool:
    guards = [
        i
        for i, node in enumerate(tree.body)
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test)
    ]
    return all(i == len(tree.body) - 1 for i in guards)


def test_a_module_run_with_python_m_defines_everything_before_it_runs():
    """`python -m colorize_lib.engine.train` runs main() where the guard stands: a function defined below the
    guard does not exist yet when main() calls it (a NameError that an import in a test never sees)."""
    broken = ast.parse(
        "def main():\n    helper()\n\nif __name__ == '__main__':\n    main()\n\ndef helper():\n    pass\n"
    )
    assert not _main_guard_is_last(broken)
    files = [*PACKAGE.rglob("*.py"), *(PACKAGE.parent / "colorize_tools").rglob("*.py")]
    assert [str(p) for p in files if not _main_guard_is_last(ast.parse(p.read_text()))] == []
