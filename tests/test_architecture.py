"""The package's layers, read from its source: imports go one way, no module imports itself back, and importing
the package installs nothing.

Layers, lowest first: ``_engine`` (pure: no SDK, no I/O) < ``_kinds`` < ``_runtime`` < ``_safety`` < the doors
(``_doors``, ``aio``, ``pytest_plugin``, the package itself and ``__main__``). A module may import its own layer
and those below it. Imports are read with :mod:`ast`, at module level and inside functions alike; those under
``if TYPE_CHECKING:`` are left out (they never run).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sandboxres"
LAYERS = ("engine", "kinds", "runtime", "safety", "doors")
_LAYER_OF_SUBPACKAGE = {
    "_engine": "engine",
    "_kinds": "kinds",
    "_leases": "kinds",
    "_runtime": "runtime",
    "_safety": "safety",
    "_simulator": "runtime",
}
_DOORS = {"_doors", "aio", "pytest_plugin", "__init__", "__main__"}
SDK_PACKAGES = ("boto3", "aioboto3", "aiobotocore", "moto")
PURE_LAYERS = ("engine", "kinds")

# Imports that break the layer order, each waiting for a move under way: module -> why. Their tests are expected
# to fail (strictly: once the import is gone the test errors, and its entry here must go). Empty today.
PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as a dotted name, and where it is."""

    name: str
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[Import]:
    """Every import in ``tree`` (at any depth) outside ``if TYPE_CHECKING:`` blocks. ``from a import b`` yields
    ``a`` and ``a.b`` (``b`` may be a submodule); relative imports are made absolute."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for other in node.orelse:
                yield from _imports(ast.Module(body=[other], type_ignores=[]), module, is_package)
            continue
        if isinstance(node, ast.Import):
            yield from (Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            yield Import(source, node.lineno)
            yield from (Import(f"{source}.{alias.name}", node.lineno) for alias in node.names if alias.name != "*")
        yield from _imports(node, module, is_package)


def _parse() -> dict[str, list[Import]]:
    modules: dict[str, list[Import]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        modules[name] = list(_imports(ast.parse(path.read_text(), str(path)), name, path.name == "__init__.py"))
    return modules


MODULES = _parse()


def layer_of(module: str) -> str:
    """The layer of a module of the package; an unknown place fails (a new module must find its layer)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    if top in _LAYER_OF_SUBPACKAGE:
        return _LAYER_OF_SUBPACKAGE[top]
    if top in _DOORS:
        return "doors"
    raise AssertionError(f"{module} is in no layer: place it under one of {sorted(_LAYER_OF_SUBPACKAGE)} or _doors")


def _package_module(name: str) -> str | None:
    """The module of the package that importing ``name`` runs (its longest prefix that is one), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _edges(module: str) -> dict[str, int]:
    """The modules of the package that ``module`` imports, with the first line importing each."""
    edges: dict[str, int] = {}
    for imported in MODULES[module]:
        if imported.name.split(".")[0] != "sandboxres":
            continue
        target = _package_module(imported.name)
        if target is not None and target != module:
            edges.setdefault(target, imported.line)
    return edges


def _params() -> list[object]:
    return [
        pytest.param(module, marks=pytest.mark.xfail(strict=True, reason=PENDING[module]))
        if module in PENDING
        else module
        for module in MODULES
    ]


def test_the_package_is_parsed() -> None:
    assert {"sandboxres", "sandboxres.aio", "sandboxres.pytest_plugin"} <= set(MODULES)
    assert any(name.startswith("sandboxres._engine.") for name in MODULES)
    assert "sandboxres._runtime.clients" in _edges("sandboxres._doors.sync")


@pytest.mark.parametrize("module", _params())
def test_imports_follow_the_layers(module: str) -> None:
    rank = LAYERS.index(layer_of(module))
    upward = [
        f"line {line}: {target} ({layer_of(target)})"
        for target, line in _edges(module).items()
        if LAYERS.index(layer_of(target)) > rank
    ]
    assert not upward, f"{module} ({layer_of(module)}) imports a higher layer: " + "; ".join(upward)


@pytest.mark.parametrize("module", [m for m in MODULES if layer_of(m) in PURE_LAYERS])
def test_pure_layers_import_no_sdk(module: str) -> None:
    sdk = [f"line {i.line}: {i.name}" for i in MODULES[module] if i.name.split(".")[0] in SDK_PACKAGES]
    assert not sdk, f"{module} ({layer_of(module)}) imports an SDK or emulator: " + "; ".join(sdk)


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as a cycle through them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_cycle_through(sorted(component), graph))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _cycle_through(component: list[str], graph: dict[str, list[str]]) -> list[str]:
    """One cycle inside ``component``, from its first module back to it (breadth-first: a shortest one)."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in graph[node]:
            if nxt == start:
                return [*paths[node], start]
            if nxt in members and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return component  # pragma: no cover - a component always holds a cycle


def test_cycle_finder_finds_cycles() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["e"]}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": ["b"], "b": []}) == []


def test_no_import_cycle() -> None:
    graph = {module: sorted(_edges(module)) for module in MODULES}
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


PROBE = """
import atexit, json, logging, signal, sys
registered = []
original = atexit.register
def register(function, *args, **kwargs):
    caller = sys._getframe(1).f_globals.get("__name__", "")
    registered.append(f"{caller}: {getattr(function, '__module__', '')}.{getattr(function, '__qualname__', function)}")
    return original(function, *args, **kwargs)
atexit.register = register
factory = logging.getLogRecordFactory()
handler = signal.getsignal(signal.SIGTERM)
import sandboxres
print(json.dumps({
    "atexit": [line for line in registered if "sandboxres" in line],
    "sigterm": repr(signal.getsignal(signal.SIGTERM)) if signal.getsignal(signal.SIGTERM) is not handler else None,
    "factory": logging.getLogRecordFactory() is not factory,
    "modules": sorted(name for name in ("boto3", "aioboto3", "tenacity") if name in sys.modules),
}))
"""


def test_import_installs_nothing_and_stays_light() -> None:
    """``import sandboxres`` in a fresh interpreter: no exit hook, no SIGTERM handler, the log record factory
    untouched, and none of boto3, aioboto3, tenacity imported (they come with the first resource)."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=True, timeout=60
    ).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["atexit"] == [], f"import registered exit hooks: {seen['atexit']}"
    assert seen["sigterm"] is None, f"import installed a SIGTERM handler: {seen['sigterm']}"
    assert not seen["factory"], "import replaced the process-wide LogRecordFactory"
    assert seen["modules"] == [], f"imported before use: {seen['modules']}"
