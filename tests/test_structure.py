"""The shape of the package: no import circles, no function longer than a screen, no huge module.

The import graph is built from the source (every ``import`` and ``from … import`` anywhere in a
module, inside functions too, relative imports resolved), so a circle hidden in a late import
is found as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "qjgeo"
#: Longest function, in lines of code (docstring, blank and comment-only lines not counted;
#: a nested function counts inside its parent).
MAX_FUNCTION_LINES = 80
#: Longest module, in lines.
MAX_MODULE_LINES = 900


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["qjgeo", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The qjgeo modules ``module`` imports (a name imported from a package that is a module
    of it counts as that module)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph() -> nx.DiGraph:
    known = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for module, path in known.items():
        for target in _imported(module, path, known):
            # a package's __init__ re-exporting its modules is not a circle with them
            if not (path.name == "__init__.py" and target.startswith(module + ".")):
                graph.add_edge(module, target)
    return graph


def test_no_import_circles() -> None:
    graph = import_graph()
    assert graph.number_of_edges() > 100  # the graph was really built
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == [], f"import circles: {cycles}"


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    skip: set[int] = set()
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str) and first.end_lineno is not None:
            skip.update(range(first.lineno, first.end_lineno + 1))
    end = node.end_lineno or node.lineno
    return sum(
        1
        for i in range(node.lineno, end + 1)
        if i not in skip and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#")
    )


def test_no_function_longer_than_a_screen() -> None:
    long = []
    for module, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _code_lines(node, lines)
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {n}")
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines of code: {long}"


def test_no_module_over_the_limit() -> None:
    big = {
        module: n
        for module, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert big == {}, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_the_graph_sees_late_imports(tmp_path: Path) -> None:
    """The checker itself: a circle made by an import inside a function is found."""
    known = {"qjgeo.a": tmp_path / "a.py", "qjgeo.b": tmp_path / "b.py"}
    known["qjgeo.a"].write_text("import qjgeo.b\n", encoding="utf-8")
    known["qjgeo.b"].write_text("def f():\n    from qjgeo import a\n", encoding="utf-8")
    assert _imported("qjgeo.a", known["qjgeo.a"], known) == {"qjgeo.b"}
    assert _imported("qjgeo.b", known["qjgeo.b"], known) == {"qjgeo.a"}


def test_first_pages_load_without_matplotlib() -> None:
    """The Map and Scenarios pages (the app's first map) import no matplotlib: only the static
    map exports need it, and it costs the first map about half a second on a cold server."""
    import subprocess
    import sys

    code = (
        "import sys, qjgeo.ui.nav, qjgeo.ui.pages.map_page, qjgeo.ui.pages.scenarios;"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
