"""Caches belong to the objects that own them: a registry keeps its parses, a file loaded on its
own is parsed afresh, and nothing is remembered by the process between two registries; and no
module of the package keeps a table, a worker's state or any other object that its code writes
at run time, but for a short list of deliberate ones, each with its reason (read from the source
with :mod:`ast`: what is written counts, not what a name looks like)."""

from __future__ import annotations

import ast
import concurrent.futures
import datetime as dt
import json
import multiprocessing
import pickle
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ecei_rules
from ecei_rules.batch import ResolverSpec, decide_lines, read_assessments
from ecei_rules.compare import impact as impact_module
from ecei_rules.compare.impact import impact
from ecei_rules.core import workers as workers_module
from ecei_rules.core.canonical import canonical_json, to_json
from ecei_rules.engine.decision import Decision
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.engine.evaluator import evaluator
from ecei_rules.engine.serialise import Serialiser
from ecei_rules.registry import Registry
from ecei_rules.ruleset import load as load_module
from ecei_rules.ruleset.load import ParseCache, Ruleset, load_ruleset
from ecei_rules.testing.synth import synthesize

SHIPPED = Path(__file__).resolve().parents[2] / "rulesets"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file of every YAML parse the loader makes."""
    seen: list[str] = []
    real = load_module._parse

    def spy(text: str, file: str | None) -> Any:
        seen.append(Path(file).name if file else "<text>")
        return real(text, file)

    monkeypatch.setattr(load_module, "_parse", spy)
    return seen


def test_a_registry_parses_each_file_once_and_keeps_its_parses_to_itself(parsed: list[str]) -> None:
    """Six versions that extend each other: one registry parses six files; a second registry, which
    shares nothing with the first, parses them again."""
    first = Registry(SHIPPED)
    versions = first.versions("ecei-labels")
    assert len(versions) == 6
    for version in versions:
        first.get("ecei-labels", version)
    assert sorted(parsed) == sorted(f"{v}.yaml" for v in versions)
    parsed.clear()
    second = Registry(SHIPPED)
    second.get("ecei-labels", versions[-1])
    assert len(parsed) == 6  # 3.0.1 and the five bases it extends, none remembered by the process


def test_a_file_loaded_on_its_own_is_parsed_afresh_unless_given_a_cache(parsed: list[str]) -> None:
    """``load_ruleset`` keeps nothing between calls; a ``ParseCache`` passed in keeps clean parses."""
    path = SHIPPED / "ecei-labels" / "1.1.0.yaml"  # extends 1.0.0
    load_ruleset(path)
    load_ruleset(path)
    assert parsed == ["1.1.0.yaml", "1.0.0.yaml"] * 2
    parsed.clear()
    cache = ParseCache()
    load_ruleset(path, cache=cache)
    load_ruleset(path, cache=cache)
    assert parsed == ["1.1.0.yaml", "1.0.0.yaml"]


def test_a_cached_parse_of_a_changed_file_is_not_reused(tmp_path: Path, parsed: list[str]) -> None:
    """The cache compares the text it was parsed from: an edited file is parsed again."""
    source = (Path(__file__).resolve().parents[1] / "data" / "minimal.yaml").read_text(encoding="utf-8")
    path = tmp_path / "1.0.0.yaml"
    path.write_text(source, encoding="utf-8")
    cache = ParseCache()
    load_ruleset(path, cache=cache)
    path.write_text(source + "# edited\n", encoding="utf-8")  # another text, the same document
    load_ruleset(path, cache=cache)
    assert parsed == ["1.0.0.yaml", "1.0.0.yaml"]


def _patterns(field: Any) -> list[Any]:
    found = [field.pattern] if field.pattern is not None else []
    children = [*field.fields.values(), *field.entries.values(), *([field.items] if field.items is not None else [])]
    return found + [p for child in children for p in _patterns(child)]


def test_each_loaded_version_owns_its_compiled_patterns() -> None:
    """A pattern remembers the values it matched; two loads of one file share no pattern object,
    so what one version's validation remembered is never another's (nor the process's)."""
    every = Path(__file__).resolve().parents[1] / "data" / "every" / "1.0.0.yaml"
    first, second = load_ruleset(every), load_ruleset(every)
    mine, theirs = _patterns(first.plan.inputs), _patterns(second.plan.inputs)
    assert mine, "the every-construct ruleset declares a pattern"
    assert [p.text for p in mine] == [p.text for p in theirs]
    assert not {id(p) for p in mine} & {id(p) for p in theirs}


# -- no process-global caches: module and class state the code writes ------------------------------

PACKAGE = Path(ecei_rules.__file__).resolve().parent

#: State the package keeps in a module or a class on purpose, written at run time, with the reason.
#: Anything else a function writes outside the objects it is given is a process-global cache.
DELIBERATE = {
    "core/workers.py: _worker": "the object a pool worker built, between the pool's initialiser and its tasks "
                                "(multiprocessing calls both by name): the one slot the pool machinery owns",
    "registry.py: Registry._shipped": "the registry of the shipped rulesets, shared on purpose (issue 21, item 8)",
    "core/logic.py: _Unknown._instance": "UNKNOWN, a singleton",
    "backends/durable.py: _PLANS": "rulesets registered with durable-rules, whose engine is one per process",
    "backends/_durable_runtime.py: _RUNTIME": "durable-rules' engine, one per process",
    "cli/app.py: _whole": "the whole command line, built on first use, then the one app every caller gets (as when "
                          "it was built at import; running one command builds that command alone)",
}

#: Methods that change the container or object they are called on.
_MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "clear",
                       "remove", "discard", "put", "appendleft", "extendleft", "move_to_end", "sort", "reverse",
                       "__setitem__", "__delitem__"})
#: Decorators that keep a table of results for the life of the process (``cached_property`` keeps
#: its value on the instance, which owns it, so it is not among them).
_MEMOISERS = frozenset({"lru_cache", "cache"})


def _module_of(root: Path, path: Path) -> str:
    return ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")


def _is_function(node: ast.AST) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))


class _Module:
    """What one module binds at its top level and in its classes' bodies, and its import aliases."""

    def __init__(self, root: Path, path: Path) -> None:
        self.name = _module_of(root, path)
        self.label = path.relative_to(root).as_posix()
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.names: set[str] = set()  # plain names bound at the top level (not functions, classes, imports)
        self.functions: set[str] = set()  # functions defined at the top level (their attributes are state too)
        self.classes: dict[str, set[str]] = {}  # class -> names bound in its body
        self.aliases: dict[str, tuple[str, str | None]] = {}  # local name -> (module, name or None: the module)
        package = self.name if path.name == "__init__.py" else self.name.rpartition(".")[0]
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, up one level for each dot after the first
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                for a in node.names:
                    self.aliases[a.asname or a.name] = (base, a.name)
            elif isinstance(node, ast.Import):  # ``import a.b as c`` names a.b; ``import a.b`` names a
                for a in node.names:
                    module = a.name if a.asname else a.name.partition(".")[0]
                    self.aliases[a.asname or module] = (module, None)
        for stmt in self.tree.body:
            if isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = {t.id for s in stmt.body for t in _targets(s) if isinstance(t, ast.Name)}
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.add(stmt.name)
            else:
                self.names.update(t.id for t in _targets(stmt) if isinstance(t, ast.Name))


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    if isinstance(stmt, ast.Assign):
        return [e for t in stmt.targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return [stmt.target]
    return []


def _written(node: ast.AST) -> Iterator[ast.expr]:
    """The expressions a statement or call inside a function changes in place: the container of
    a subscript or attribute assigned or deleted, or the object a mutating method is called on."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(t, (ast.Subscript, ast.Attribute)):
                    yield t.value
                    if isinstance(t, ast.Attribute):
                        yield t  # ``Class.attr = ...`` rebinds a class attribute
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
        yield node.func.value


def _memoiser(expr: ast.expr) -> str | None:
    """The memoising decorator ``expr`` is (``lru_cache``, ``functools.cache``, ``lru_cache(maxsize=8)``), or None."""
    called = expr.func if isinstance(expr, ast.Call) else expr
    name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
    return name if name in _MEMOISERS else None


def _locals(function: ast.AST) -> set[str]:
    """The names a function binds for itself (arguments, assignments, loop and ``with`` targets),
    not those it declares global."""
    bound = {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)}
    bound |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return bound - {n for g in ast.walk(function) if isinstance(g, ast.Global) for n in g.names}


class _StateFinder:
    """Module and class state of a package that its code writes at run time."""

    def __init__(self, root: Path) -> None:
        self.modules = {m.name: m for m in (_Module(root, p) for p in sorted(root.rglob("*.py")))}
        self.found: dict[str, list[str]] = {}
        for module in self.modules.values():
            self.visit(module, module.tree, None, None)

    def note(self, owner: _Module, name: str, where: str) -> None:
        self.found.setdefault(f"{owner.label}: {name}", []).append(where)

    def visit(self, module: _Module, node: ast.AST, function: ast.AST | None, klass: str | None) -> None:
        for decorator in getattr(node, "decorator_list", []):
            name = _memoiser(decorator)
            if name is not None:
                self.note(module, f"@{name} {getattr(node, 'name', '')}", f"{module.label}:{decorator.lineno}")
        if function is None and isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            # a memoiser applied by a call where the module is built (``ends = lru_cache(maxsize=8)(month_end)``)
            name = _memoiser(node.value.func)
            if name is not None:
                for target in _targets(node):
                    self.note(module, f"{name}() {getattr(target, 'id', '')}", f"{module.label}:{node.lineno}")
        if isinstance(node, ast.ClassDef):
            klass = node.name
        if _is_function(node):
            function = node
        if function is not None:
            if isinstance(node, ast.Global):
                for name in node.names:
                    self.note(module, name, f"{module.label}:{node.lineno}")
            for expr in _written(node):
                self.resolve(module, expr, function, klass)
        for child in ast.iter_child_nodes(node):
            self.visit(module, child, function, klass)

    def resolve(self, module: _Module, expr: ast.expr, function: ast.AST, klass: str | None) -> None:
        """Note the state ``expr`` names, if it is module or class state of the package."""
        while isinstance(expr, ast.Subscript):
            expr = expr.value
        where = f"{module.label}:{expr.lineno}"
        if isinstance(expr, ast.Name):
            if expr.id in _locals(function):
                return
            if expr.id in module.names:
                self.note(module, expr.id, where)
            elif expr.id in module.aliases:
                source, name = module.aliases[expr.id]
                if name is not None and source in self.modules and name in self.modules[source].names:
                    self.note(self.modules[source], name, where)
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            base, attr = expr.value.id, expr.attr
            if base == "cls" and klass is not None and attr in module.classes.get(klass, set()):
                self.note(module, f"{klass}.{attr}", where)
            elif (base in module.classes and attr in module.classes[base]) or base in module.functions:
                self.note(module, f"{base}.{attr}", where)
            elif base in module.aliases:
                source, name = module.aliases[base]
                target = self.modules.get(source if name is None else f"{source}.{name}")
                if target is not None and attr in target.names:
                    self.note(target, attr, where)


def process_state(root: Path) -> dict[str, list[str]]:
    """Module and class state that code of the package under ``root`` writes at run time (inside a
    function, so not the building of a table when the module is imported), and every memoising
    decorator: ``"file: name"`` -> where it is written."""
    return _StateFinder(root).found


def _state_of(tmp_path: Path, files: dict[str, str]) -> set[str]:
    root = tmp_path / "pkg"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "__init__.py").touch()
    return set(process_state(root))


def test_no_module_of_the_package_keeps_a_cache_of_the_process() -> None:
    """Every module and class state the package writes at run time is one of the deliberate few
    (each with its reason), and each of those is still there (the list does not outlive them)."""
    found = process_state(PACKAGE)
    unexpected = {name: where for name, where in found.items() if name not in DELIBERATE}
    assert not unexpected, f"process-global state: {unexpected} (give it an owner, or add it to DELIBERATE)"
    assert set(DELIBERATE) <= set(found), f"no longer written: {set(DELIBERATE) - set(found)}"


def test_the_check_finds_memo_tables_and_worker_state(tmp_path: Path) -> None:
    """The shapes the package had (the serialiser's module tables, a pool worker's dict, a table
    of loaded versions written from another module), a memoising decorator, a memoiser applied by a call
    where the module is built, and a rebound global are found; constant tables, tables built at import and
    state owned by objects (a memoiser a function makes for its caller) are not."""
    found = _state_of(tmp_path, {
        "serialise.py": '''
            class _Table(dict):
                def put(self, key, value, cost):
                    self[key] = value
            _strings = _Table()
            _SCALARS = frozenset({str, int})
            def _string(value):
                found = _strings.get(value)
                if found is None:
                    _strings.put(value, repr(value), 8)
                return found
            ''',
        "batch.py": '''
            _WORKER = {}
            def _init_worker(spec):
                _WORKER["resolve"] = spec
            ''',
        "impact.py": '''
            from pkg.tables import LOADED
            from pkg import tables
            def run(key, ruleset):
                LOADED.update({key: ruleset})
                tables.SEEN.append(key)
            ''',
        "tables.py": '''
            LOADED = {}
            SEEN = []
            STYLE = {"met": "green"}
            BUILT = {}
            for k in ("a", "b"):
                BUILT[k] = k.upper()
            def style(outcome, out):
                out.append(STYLE[outcome])
                local = {}
                local["x"] = BUILT["a"]
                return local
            ''',
        "memo.py": '''
            import functools
            from functools import lru_cache
            @functools.cache
            def parsed(text):
                return text
            @lru_cache(maxsize=64)
            def compiled(text):
                return text
            remembered = functools.lru_cache(maxsize=8, typed=True)(compiled)
            kept: object = lru_cache(parsed)
            def owned():
                return functools.lru_cache(maxsize=8)(parsed)
            class Owner:
                def __init__(self):
                    self.memo = {}
                @functools.cached_property
                def table(self):
                    return {}
                def get(self, key):
                    self.memo[key] = key
            ''',
        "runtime.py": '''
            _RUNTIME = None
            def runtime():
                global _RUNTIME
                _RUNTIME = object()
                return _RUNTIME
            class Shared:
                _one = None
                @classmethod
                def one(cls):
                    cls._one = cls()
                    return cls._one
            def pattern(text):
                pattern.seen[text] = text
            pattern.seen = {}
            ''',
    })
    assert found == {"serialise.py: _strings", "batch.py: _WORKER", "tables.py: LOADED", "tables.py: SEEN",
                     "memo.py: @cache parsed", "memo.py: @lru_cache compiled", "memo.py: lru_cache() remembered",
                     "memo.py: lru_cache() kept", "runtime.py: _RUNTIME",
                     "runtime.py: Shared._one", "runtime.py: pattern.seen"}


# -- a pool worker's state belongs to the pool --------------------------------------------------


def _population(tmp_path: Path, n: int) -> tuple[Path, Ruleset, Ruleset]:
    """A JSON Lines file of ``n`` assessments carrying the inputs of 2.0.0 and 3.0.1, and the two."""
    registry = Registry.shipped()
    old, new = registry.get("ecei-labels", "2.0.0"), registry.get("ecei-labels", "3.0.1")
    path = tmp_path / "population.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for data in synthesize(n, seed=21, start=dt.date(2021, 1, 1), end=dt.date(2025, 12, 31),
                               registry=registry, versions=(old, new)):
            handle.write(json.dumps(to_json(data)) + "\n")
    return path, old, new


def _comparable(report: Any) -> dict[str, Any]:
    found: dict[str, Any] = report.to_json()
    return {k: v for k, v in found.items() if k not in ("seconds", "jobs")}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_build_their_state_once_and_the_parent_keeps_none(
        method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch and an impact study over two worker processes give what one process gives, with the
    workers started by fork (the loaded versions reach them as they are) and by spawn (each version
    pickled as its file and content hash, and loaded by each worker); the process that ran the pools
    keeps no worker state (the pool's slot is written in the workers only)."""
    monkeypatch.setattr(workers_module, "usable_cores", lambda: 2)
    monkeypatch.setattr(workers_module, "available_memory", lambda: None)
    started: list[str] = []
    real = concurrent.futures.ProcessPoolExecutor

    def pool(*args: Any, **kwargs: Any) -> Any:
        started.append(method)
        return real(*args, mp_context=multiprocessing.get_context(method), **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    path, old, new = _population(tmp_path, 120)
    alone = list(decide_lines(read_assessments(path, raw=True), ResolverSpec(), jobs=1))
    assert list(decide_lines(read_assessments(path, raw=True), ResolverSpec(), jobs=2, chunk_size=40)) == alone
    assert _comparable(impact(old, new, path, jobs=2, chunk_size=40)) == _comparable(impact(old, new, path, jobs=1))
    assert started == [method, method]
    assert workers_module._worker is None


def test_a_version_sent_to_a_spawned_worker_is_its_file_checked_by_hash(tmp_path: Path) -> None:
    """Pickled, a version is its file and content hash: unpickled, it is loaded again from the file,
    and a file changed since is refused."""
    path = tmp_path / "1.0.0.yaml"
    source = (Path(__file__).resolve().parents[1] / "data" / "minimal.yaml").read_text(encoding="utf-8")
    path.write_text(source, encoding="utf-8")
    version = impact_module._Version(load_ruleset(path))
    sent = pickle.dumps(version)
    assert len(sent) < 1000  # the file's name and hash, not the loaded version
    again = pickle.loads(sent)
    assert again.ruleset is not version.ruleset
    assert again.ruleset.sha256 == version.ruleset.sha256
    path.write_text(source.replace("Score high enough", "Score high"), encoding="utf-8")
    with pytest.raises(RuntimeError, match="changed while the impact analysis ran"):
        pickle.loads(sent)


# -- the serialiser's tables belong to an evaluator ------------------------------------------------


def _held(serialiser: Serialiser) -> int:
    return sum(len(table) for table in serialiser.tables)


def test_each_evaluator_owns_the_serialiser_its_decisions_are_written_with() -> None:
    """Two loads of one version share no serialiser. A decision of the evaluator is written by that
    evaluator's serialiser (its tables fill, nobody else's); the same decision parsed back from
    JSON, which came from no evaluator, gives the same bytes from a serialiser of its own for the
    call, and leaves the evaluator's tables as they were; pickled, a decision carries no serialiser."""
    every = Path(__file__).resolve().parents[1] / "data" / "every" / "1.0.0.yaml"
    first, second = load_ruleset(every), load_ruleset(every)
    mine, theirs = evaluator(first).serialiser, evaluator(second).serialiser
    assert mine is not theirs
    data = {"org": {"id": "A", "country": "DE"}, "assessed_on": "2024-05-01",
            "staff": {"total": 10, "managers": 2, "fte": 0.75}, "kpi": {"k1": 0.8, "k2": 3, "k3": True},
            "areas": [{"kpi": "k1", "validated": True}], "history": []}
    decision = evaluate(first, data)
    assert _held(mine) == 0
    text = decision.canonical_text()
    assert text == canonical_json(decision.to_json()).decode("utf-8")
    held = _held(mine)
    assert held > 0
    assert _held(theirs) == 0
    parsed = Decision.model_validate_json(decision.model_dump_json())
    assert parsed == decision
    assert parsed.canonical_text() == text
    assert _held(mine) == held
    assert b"Serialiser" not in pickle.dumps(decision)
    assert pickle.loads(pickle.dumps(decision)).canonical_text() == text
