"""Safe YAML reading that remembers where every value came from.

PyYAML parses the text into events (the C parser when available); this module reads them once
and makes plain Python values itself (no node graph is composed), so that it can:

* resolve plain scalars by the YAML 1.2 core schema (``no`` stays a string, ``0.75`` becomes
  an exact :class:`~decimal.Decimal`, ``2019-11-15`` a :class:`~datetime.date`);
* reject duplicate keys, custom tags, anchors and aliases (no alias bombs);
* record the line and column of every key and value under its JSON pointer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import yaml

from ecei_rules.core.pointers import escape
from ecei_rules.errors import Diagnostic

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000
#: A document of more values is built in a second reading of its events, once the whole stream is
#: known to be within the limits (the first builds nothing past this many: a refused document never
#: takes more room than that).
BUILT_AT_ONCE = 20_000

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}


class _CoreLoader(_Loader):  # type: ignore[misc]
    """A safe loader whose implicit scalar types follow the YAML 1.2 core schema."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}


def _add(tag: str, pattern: str, first: str) -> None:
    _CoreLoader.add_implicit_resolver(_CORE + tag, re.compile(pattern, re.X), list(first))


_add("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_add("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])  # type: ignore[arg-type]
_add("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_add(
    "float",
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    "-+0123456789.",
)
_add("timestamp", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "0123456789")


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document stands in its file."""

    file: str | None
    values: dict[str, tuple[int, int]] = field(default_factory=dict)
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)
    styles: dict[str, str | None] = field(default_factory=dict)

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int | None, int | None]:
        """Return (line, column) of the value at ``pointer`` or of its nearest ancestor."""
        table = self.keys if key else self.values
        probe = pointer
        while True:
            if probe in table:
                return table[probe]
            if key and probe in self.values:
                return self.values[probe]
            if not probe:
                return (None, None)
            probe = probe.rsplit("/", 1)[0]


@dataclass
class YamlDocument:
    """A parsed YAML document, its positions and any problems met on the way."""

    data: Any
    positions: Positions
    diagnostics: list[Diagnostic]


class _AbortError(Exception):
    pass


def parse_yaml(text: str, file: str | None = None) -> YamlDocument:
    """Parse one YAML document safely; never raises for bad input."""
    builder = _Builder(file)
    if not builder.acceptable(text):
        return YamlDocument(None, builder.positions, builder.diags)
    data = builder.read(text)
    return YamlDocument(data, builder.positions, builder.diags)


_SCALAR, _SEQUENCE, _MAPPING = yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent
_SEQUENCE_END, _MAPPING_END = yaml.SequenceEndEvent, yaml.MappingEndEvent
_ANCHORS = "anchors and aliases ('&name', '*name') are not allowed in rulesets"
_DEFAULT_TAGS: dict[type, str] = {_SEQUENCE: _CORE + "seq", _MAPPING: _CORE + "map"}
#: a mapping's next node is a key (the state of an open mapping between its pairs)
_KEY = object()
#: a key that was refused: its value is not built
_REFUSED = object()


class _Open:
    """A collection being built: its value, where it is, and (a mapping) the key its next value takes."""

    __slots__ = ("depth", "key", "pointer", "value")

    def __init__(self, value: Any, pointer: str, depth: int) -> None:
        self.value = value
        self.pointer = pointer
        self.depth = depth
        self.key: Any = _KEY


class _Limits:
    """The checks of the whole stream, node by node: no anchor, and at most MAX_NODES values (a
    mapping's keys are no values of their own)."""

    __slots__ = ("expects_key", "nodes")

    def __init__(self) -> None:
        self.nodes = 0
        self.expects_key: list[bool | None] = []  # per open collection: a mapping's next node is a key (True)

    def node(self, event: Any, kind: type) -> tuple[str, str, Any] | None:
        """The problem of a node's event, if it has one (counted, and its collection opened)."""
        if event.anchor:
            return "E004", _ANCHORS, event.start_mark
        expects_key = self.expects_key
        state = expects_key[-1] if expects_key else None
        if state is not None:
            expects_key[-1] = not state
        if state is not True:  # a key is no value of its own
            self.nodes += 1
            if self.nodes > MAX_NODES:
                return "E005", f"the document has more than {MAX_NODES} values", event.start_mark
        if kind is _MAPPING:
            expects_key.append(True)
        elif kind is _SEQUENCE:
            expects_key.append(None)
        return None


class _Builder:
    """Checks a text, then reads its parser's events once: the checks of the whole stream (no anchor,
    alias or second document, at most MAX_NODES values: never an alias bomb, never a huge document
    built past its limits) and, from the first document, plain values, noting the position of
    every key and value and every problem found (what a node-by-node build would find, in the
    same order)."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.positions = Positions(file)
        self.diags: list[Diagnostic] = []
        self.count = 0
        self.root: Any = None
        self._open: list[_Open] = []
        self._resolve: Any = None
        self._budget: int | None = None  # values built in this reading at most (None: all)
        self._building = self._whole = True  # still building; built whole so far
        self._skip = 0  # open collections of a subtree that is not built (a refused key, its value, a refused tag)

    def diag(self, code: str, message: str, mark: Any = None, pointer: str = "",
             suggestion: str | None = None) -> None:
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        self.diags.append(Diagnostic(code, message, self.file, line, col, pointer, suggestion))

    def acceptable(self, text: str) -> bool:
        """The checks made on the text itself: size, lone surrogates, tab indentation."""
        # every character is at least one byte: a long text is refused before it is encoded
        if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            self.diag("E005", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
            return False
        if not text.isascii():  # a str from a caller may hold a lone surrogate, which the YAML reader cannot take
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                self.diag("E001", f"the text holds a lone surrogate (U+{ord(text[exc.start]):04X}) at character "
                          f"{exc.start + 1}: it is not UTF-8 text")
                return False
        if "\t" in text:
            for number, line_text in enumerate(text.splitlines(), 1):
                stripped = line_text.lstrip(" ")
                if stripped.startswith("\t"):
                    self.diags.append(Diagnostic("E002", "a tab indents this line; YAML indentation must use spaces",
                                                 self.file, number, len(line_text) - len(stripped) + 1, "",
                                                 "replace the tab with spaces"))
                    return False
        return True

    def read(self, text: str) -> Any:
        """The document's value; None when there is none, or after a problem (a problem of the
        stream is then its one diagnostic, and no position is kept)."""
        problem: tuple[str, str, Any] | None
        try:
            problem, whole = self._read(text, BUILT_AT_ONCE)
            if problem is None and not whole:  # a large document: built in a second reading, now known sound
                problem, whole = self._read(text, None)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
            problem = "E005" if "nesting depth" in message else "E002", message or "invalid YAML", mark
        except yaml.YAMLError as exc:
            problem = "E002", str(exc).splitlines()[0] if str(exc) else "invalid YAML", None
        except RecursionError:
            problem = "E005", f"the document is nested too deeply (at most {MAX_DEPTH} levels)", None
        if problem is None:
            return self.root
        self.positions, self.diags = Positions(self.file), []
        code, message, mark = problem
        self.diag(code, message, mark, "",
                  "write values out, or use 'extends' to build on another version" if code == "E004" else None)
        return None

    def _read(self, text: str, budget: int | None) -> tuple[tuple[str, str, Any] | None, bool]:
        """One reading of the text's events (see `_events`), from a fresh start."""
        self.positions, self.diags, self.count, self.root, self._open = Positions(self.file), [], 0, None, []
        loader = _CoreLoader(text)
        try:
            return self._events(loader, budget)
        finally:
            loader.dispose()

    def _events(self, loader: Any, budget: int | None) -> tuple[tuple[str, str, Any] | None, bool]:
        """Read every event: the first anchor or alias, too many values or a second document, if
        any; the first document built on the way (until a limit stops it: then its value is None),
        and whether it was built whole: past ``budget`` values, nothing more is built before the
        whole stream is known to be sound (a huge document is refused before it takes any room)."""
        self._resolve, self._budget = loader.resolve, budget
        self._building, self._whole, self._skip = True, True, 0
        check_event, get_event = loader.check_event, loader.get_event
        limits = _Limits()
        documents = 0
        another = None  # where a second document starts
        while check_event():
            event = get_event()
            kind = type(event)
            if kind is _SCALAR or kind is _SEQUENCE or kind is _MAPPING:
                problem = limits.node(event, kind)
                if problem is not None:
                    return problem, False
                if documents == 1 and self._building:
                    self._start(event, kind)
            elif kind is _SEQUENCE_END or kind is _MAPPING_END:
                limits.expects_key.pop()
                if documents == 1 and self._building:
                    self._end()
            elif kind is yaml.AliasEvent:
                return ("E004", _ANCHORS, event.start_mark), False
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents == 2:
                    another = event.start_mark
        if another is not None:
            return ("E002", "expected a single document in the stream but found another document", another), False
        return None, self._whole

    def _start(self, event: Any, kind: type) -> None:
        """A node of the first document begins: built, or skipped with the subtree it is in."""
        if self._skip:
            self._skip += kind is not _SCALAR
            return
        try:
            self._skip = self._node(event, kind)
        except _AbortError:
            self._building, self.root = False, None
        if self._budget is not None and self.count > self._budget:
            self._building = self._whole = False
            self.positions, self.diags, self.root, self._open = Positions(self.file), [], None, []

    def _end(self) -> None:
        """A collection of the first document ends."""
        if self._skip:
            self._skip -= 1
        else:
            self._open.pop()

    def _node(self, event: Any, kind: type) -> int:
        """Build the node an event starts (a key, a value or the root); the number of open
        collections it leaves to skip (1: a collection that is not built)."""
        collection = int(kind is not _SCALAR)
        parent = self._open[-1] if self._open else None
        key: Any = None
        if parent is None:
            pointer, depth = "", 0
        else:
            if parent.key is _KEY:
                parent.key = self.key(event, kind, parent)
                return collection  # a key is text: a collection as a key is never built
            if parent.key is not None:  # a mapping's value
                key, parent.key = parent.key, _KEY
                if key is _REFUSED:
                    return collection
                pointer = parent.pointer + "/" + (key if "~" not in key and "/" not in key else escape(key))
            else:
                pointer = f"{parent.pointer}/{len(parent.value)}"
            depth = parent.depth + 1
        value, opened = self.build(event, kind, pointer, depth)
        if parent is None:
            self.root = value
        elif key is not None:
            parent.value[key] = value
        else:
            parent.value.append(value)
        return collection - opened

    def build(self, event: Any, kind: type, pointer: str, depth: int) -> tuple[Any, int]:
        """The plain value a node starts (an empty collection, opened, its items to come), and 1
        when it opened one; raises _AbortError past the node or depth limit."""
        mark = event.start_mark
        self.count += 1
        if self.count > MAX_NODES:
            self.diag("E005", f"the document has more than {MAX_NODES} values", mark, pointer)
            raise _AbortError
        if depth > MAX_DEPTH:
            self.diag("E005", f"the document is nested more than {MAX_DEPTH} levels deep", mark, pointer)
            raise _AbortError
        self.positions.values[pointer] = (mark.line + 1, mark.column + 1)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self._resolve(yaml.ScalarNode, event.value, event.implicit) if kind is _SCALAR \
                else _DEFAULT_TAGS[kind]
        if tag not in _ALLOWED_TAGS:
            self.diag("E004", f"the YAML tag '{tag}' is not allowed in rulesets", mark, pointer,
                      "remove the tag; rulesets use plain YAML values")
            return None, 0
        if kind is _MAPPING:
            self._open.append(_Open({}, pointer, depth))
            return self._open[-1].value, 1
        if kind is _SEQUENCE:
            opened = _Open([], pointer, depth)
            opened.key = None
            self._open.append(opened)
            return opened.value, 1
        self.positions.styles[pointer] = event.style
        try:
            return _scalar(tag, event.value), 0
        except ValueError as exc:
            self.diag("E103", str(exc), mark, pointer)
            return None, 0

    def key(self, event: Any, kind: type, parent: _Open) -> Any:
        """The text of a mapping key as written (01 stays "01"), or _REFUSED for a key that is refused."""
        pointer = parent.pointer
        if event.tag == _CORE + "merge" or (kind is _SCALAR and event.value == "<<" and not event.style):
            # YAML 1.1 merges a plain '<<' key; the core schema would keep it as a key: neither is wanted
            self.diag("E004", "merge keys ('<<') are not allowed", event.start_mark, pointer,
                      "write the keys out, or use 'extends' to build on another version")
            return _REFUSED
        if kind is not _SCALAR:
            self.diag("E103", "a mapping key must be a plain value", event.start_mark, pointer)
            return _REFUSED
        key = str(event.value)
        child = pointer + "/" + (key if "~" not in key and "/" not in key else escape(key))
        if key in parent.value:
            first = self.positions.keys.get(child)
            where = f" (first defined on line {first[0]})" if first else ""
            self.diag("E003", f"duplicate key '{key}'{where}", event.start_mark, child,
                      "remove one of the two; YAML would silently keep only the last")
            return _REFUSED
        self.positions.keys[child] = (event.start_mark.line + 1, event.start_mark.column + 1)
        return key


def _scalar(tag: str, text: str) -> Any:
    if tag == _CORE + "str":
        return str(text)
    if tag == _CORE + "null":
        return None
    if tag == _CORE + "bool":
        return text.lower() == "true"
    if tag == _CORE + "int":
        cleaned = text.replace("_", "")
        based = cleaned.startswith(("0o", "0x"))
        # bounded before conversion, in every base: a longer integer is no value a ruleset or an
        # assessment needs, and its decimal text could not even be shown (Python's 4,300 digits)
        if len(cleaned) - 2 * based > 40:
            raise ValueError(f"the integer {text[:20]}... has more than 40 digits")
        return int(cleaned, 0 if based else 10)
    if tag == _CORE + "float":
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            raise ValueError(f"'{text}' is not a finite number")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"'{text}' is not a number") from None
        if abs(value.adjusted()) > 300:
            raise ValueError(f"the number {text} is too large or too small")
        if len(value.normalize().as_tuple().digits) > 15:
            raise ValueError(f"the number {text} has more than 15 significant digits")
        return value
    if tag == _CORE + "timestamp":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a valid date (YYYY-MM-DD)") from None
    return str(text)
