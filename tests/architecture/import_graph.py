"""The package's import graph, read from the source with :mod:`ast` (nothing is imported).

Every import counts: at module level, inside functions (lazy imports) and inside ``try``. Only
imports under ``if TYPE_CHECKING:`` are set apart: they never run, so they cannot make a cycle,
but they still count against the layer order (a lower layer must not even name a higher one's types).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The layers, lowest first. A module may import modules of lower layers and of its own package;
#: never a higher layer, and never another package of its own layer. The package root
#: (``ecei_rules/__init__.py``, the public face) sits above everything and nothing imports it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("errors",),
    ("language",),
    ("ruleset",),
    ("engine",),
    ("registry",),
    ("batch",),
    ("audit", "compare", "explanation"),
    ("testing", "backends"),
    ("render",),
    ("cli",),
    ("",),  # the package root
)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    lazy: bool
    type_only: bool

    def __str__(self) -> str:
        how = "type-only " if self.type_only else "lazy " if self.lazy else ""
        return f"{self.source}:{self.line} {how}imports {self.target}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Collector(ast.NodeVisitor):
    def __init__(self, package: str, module: str, is_package: bool, modules: set[str]) -> None:
        self.package, self.module, self.modules = package, module, modules
        self.here = module.split(".") if is_package else module.split(".")[:-1]
        self.depth = 0
        self.type_only = 0
        self.edges: list[Edge] = []

    def _add(self, target: str, node: ast.AST) -> None:
        if target == self.package or target.startswith(self.package + "."):
            while target not in self.modules and "." in target:
                target = target.rsplit(".", 1)[0]
            edge = Edge(self.module, target, getattr(node, "lineno", 0), self.depth > 0, self.type_only > 0)
            if target != self.module and edge not in self.edges:
                self.edges.append(edge)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self.type_only += 1
            for child in node.body:
                self.visit(child)
            self.type_only -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _scope(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scope(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scope(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.here[: len(self.here) - node.level + 1]
            mod = ".".join([*base, *([node.module] if node.module else [])])
        else:
            mod = node.module or ""
        for alias in node.names:  # "from pkg import submodule" imports the submodule
            full = f"{mod}.{alias.name}"
            self._add(full if full in self.modules else mod, node)


def read_graph(root: Path) -> list[Edge]:
    """Every import edge between modules of the package at ``root`` (a folder with __init__.py)."""
    package = root.name
    files = sorted(root.rglob("*.py"))
    modules = {module_name(root, p) for p in files}
    edges: list[Edge] = []
    for path in files:
        name = module_name(root, path)
        collector = _Collector(package, name, path.name == "__init__.py", modules)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        edges.extend(collector.edges)
    return edges


def layer_of(package: str, module: str, layers: Sequence[Sequence[str]] = LAYERS) -> tuple[int, str]:
    """The layer index of a module and the top-level part (package or module) it belongs to."""
    rest = module[len(package) + 1:] if module != package else ""
    top = rest.split(".", 1)[0]
    for index, names in enumerate(layers):
        if top in names:
            return index, top
    raise LookupError(f"{module} belongs to no declared layer: add {top!r} to LAYERS")


def layer_violations(package: str, edges: Iterable[Edge],
                     layers: Sequence[Sequence[str]] = LAYERS) -> list[str]:
    """Imports that run upward, or sideways between two packages of one layer."""
    problems = []
    for edge in edges:
        (src_layer, src_top), (dst_layer, dst_top) = layer_of(package, edge.source, layers), layer_of(
            package, edge.target, layers)
        if dst_layer > src_layer:
            problems.append(f"{edge}: upward, from layer {src_top or 'root'} to {dst_top or 'root'}")
        elif dst_layer == src_layer and dst_top != src_top:
            problems.append(f"{edge}: sideways, between {src_top} and {dst_top} of one layer")
    return problems


def cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """Each strongly connected group of modules of more than one (imports that run, lazy included)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if not edge.type_only:
            graph.setdefault(edge.source, set()).add(edge.target)
            graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm; the package is small enough to recurse
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found
