"""The worker's import graph: acyclic, one door from the entry point to the engines, and no engine
reaching into another engine or back through the door.

Every module of joules_worker is parsed with ``ast`` (nothing is imported). An edge is any
``import`` / ``from ... import`` of a joules_worker module, at module level or inside a function
(lazy imports run too); imports under ``if TYPE_CHECKING:`` never run and are left out. The door's
registry (``ENGINES`` in joules_worker/engines/__init__.py) names each engine's module as a string
imported on demand: those are edges too.

Shared modules are the ones outside ``joules_worker.engines``; an engine is the package (or module)
``joules_worker.engines.<x>`` holding a registered engine; the rest of ``joules_worker.engines``
(the door, ``base``) is the frame the engines share.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import joules_worker

PACKAGE_DIR = Path(joules_worker.__file__).resolve().parent
ROOT = "joules_worker"
DOOR = "joules_worker.engines"
ENTRY_POINT = "joules_worker.cli"  # the one module that goes through the door


def _name_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_name_of(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, function bodies included, TYPE_CHECKING blocks not."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append(child)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            found += _import_nodes(ast.Module(body=child.orelse, type_ignores=[]))
        else:
            found += _import_nodes(child)
    return found


def _target(name: str) -> str | None:
    """The joules_worker module that importing ``name`` runs last (``a.b.c`` → ``a.b.c`` when it exists)."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _base_of(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def registry() -> dict[str, str]:
    """``ENGINES``: engine name → the module the door imports for it."""
    tree = ast.parse(modules()[DOOR].read_text())
    for node in tree.body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else (node.targets[0] if isinstance(node, ast.Assign) else None)
        )
        if isinstance(target, ast.Name) and target.id == "ENGINES" and node.value is not None:
            return {name: spec[0] for name, spec in ast.literal_eval(node.value).items()}
    raise AssertionError(f"{DOOR} has no ENGINES registry")


@cache
def graph() -> dict[str, frozenset[str]]:
    edges: dict[str, frozenset[str]] = {}
    for module, path in modules().items():
        found: set[str] = set()
        for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = _base_of(module, node)
                names = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base for alias in node.names
                ]
            found |= {t for n in names if n.split(".")[0] == ROOT and (t := _target(n)) is not None}
        if module == DOOR:
            found |= set(registry().values())
        edges[module] = frozenset(found - {module})
    return edges


def engine_roots() -> dict[str, str]:
    """Engine name → its package (or module) under joules_worker.engines."""
    return {name: ".".join(module.split(".")[:3]) for name, module in registry().items()}


def engine_of(module: str) -> str | None:
    return next((n for n, r in engine_roots().items() if module == r or module.startswith(r + ".")), None)


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def find_cycle(edges: dict[str, frozenset[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                return [*path[path.index(t) :], t]
            if t not in state and (cycle := visit(t)):
                return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_the_graph_sees_every_engine_through_the_door() -> None:
    edges = graph()
    assert set(registry()) >= {"transformers", "server"}
    for name, module in registry().items():
        assert module in modules(), f"ENGINES[{name!r}] names {module}, which is not a module of the worker"
        assert module in edges[DOOR]
    assert DOOR in edges[ENTRY_POINT], "the entry point reaches the engines through the door"


def test_the_import_graph_is_acyclic() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_shared_modules_do_not_import_engines() -> None:
    wrong = [
        f"{m} -> {t}"
        for m, targets in graph().items()
        if not _under(m, DOOR)
        for t in targets
        if _under(t, DOOR) and not (m == ENTRY_POINT and t == DOOR)
    ]
    assert not wrong, "shared modules reach into joules_worker.engines (only cli may, through the door):\n" + "\n".join(
        wrong
    )


def test_the_frame_does_not_import_an_engine_except_through_the_registry() -> None:
    door_registry = set(registry().values())
    wrong = [
        f"{m} -> {t}"
        for m, targets in graph().items()
        if _under(m, DOOR) and engine_of(m) is None
        for t in targets
        if engine_of(t) is not None and not (m == DOOR and t in door_registry)
    ]
    assert not wrong, "\n".join(wrong)


def test_engines_do_not_import_each_other_nor_go_back_through_the_door() -> None:
    wrong = []
    for m, targets in graph().items():
        mine = engine_of(m)
        if mine is None:
            continue
        for t in targets:
            theirs = engine_of(t)
            if t == DOOR or (theirs is not None and theirs != mine):
                wrong.append(f"{m} ({mine}) -> {t}" + (f" ({theirs})" if theirs else " (the door)"))
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_the_entry_point() -> None:
    wrong = [m for m, targets in graph().items() if ENTRY_POINT in targets and m != f"{ROOT}.__main__"]
    assert not wrong, f"{ENTRY_POINT} is imported by {wrong}"


def test_no_module_imports_a_package_above_it() -> None:
    """Upward imports: a module reaching back into a package that holds it (a registry, a door). Only
    the root package, which holds the version constants and imports nothing, may be read from below."""
    wrong = [f"{m} -> {t}" for m, targets in graph().items() for t in targets if t != ROOT and m.startswith(t + ".")]
    assert not wrong, "\n".join(wrong)


def test_the_root_package_imports_nothing_of_its_own() -> None:
    assert graph()[ROOT] == frozenset()
