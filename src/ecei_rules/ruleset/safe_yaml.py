"""Safe YAML reading that remembers where every value came from.

PyYAML composes the node graph (the C parser when available); this module turns nodes into
plain Python values itself, so that it can:

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

from ecei_rules.core.pointers import pointer_join
from ecei_rules.errors import Diagnostic

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

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
    node = builder.compose(text)
    if node is None:
        return YamlDocument(None, builder.positions, builder.diags)
    try:
        data = builder.build(node, "", 0)
    except _AbortError:
        return YamlDocument(None, builder.positions, builder.diags)
    return YamlDocument(data, builder.positions, builder.diags)


class _Builder:
    """Checks a text, composes it (never an alias bomb: events are scanned first) and builds plain
    values from the nodes, noting the position of every key and value and every problem found."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.positions = Positions(file)
        self.diags: list[Diagnostic] = []
        self.count = 0

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

    def compose(self, text: str) -> Any:
        """The document's root node, or None (with a diagnostic, unless the document is empty)."""
        try:
            problem = _scan_events(text)
            if problem is not None:
                code, message, mark = problem
                self.diag(code, message, mark, "",
                          "write values out, or use 'extends' to build on another version" if code == "E004" else None)
                return None
            loader = _CoreLoader(text)
            try:
                return loader.get_single_node()
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
            self.diag("E005" if "nesting depth" in message else "E002", message or "invalid YAML", mark)
        except yaml.YAMLError as exc:
            self.diag("E002", str(exc).splitlines()[0] if str(exc) else "invalid YAML")
        except RecursionError:
            self.diag("E005", f"the document is nested too deeply (at most {MAX_DEPTH} levels)")
        return None

    def build(self, n: Any, pointer: str, depth: int) -> Any:
        """The plain value of node ``n``; raises _AbortError past the node or depth limit."""
        self.count += 1
        if self.count > MAX_NODES:
            self.diag("E005", f"the document has more than {MAX_NODES} values", n.start_mark, pointer)
            raise _AbortError
        if depth > MAX_DEPTH:
            self.diag("E005", f"the document is nested more than {MAX_DEPTH} levels deep", n.start_mark, pointer)
            raise _AbortError
        self.positions.values[pointer] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if n.tag not in _ALLOWED_TAGS:
            self.diag("E004", f"the YAML tag '{n.tag}' is not allowed in rulesets", n.start_mark, pointer,
                      "remove the tag; rulesets use plain YAML values")
            return None
        if isinstance(n, yaml.MappingNode):
            return self.mapping(n, pointer, depth)
        if isinstance(n, yaml.SequenceNode):
            return [self.build(item, pointer_join(pointer, i), depth + 1) for i, item in enumerate(n.value)]
        self.positions.styles[pointer] = n.style
        try:
            return _scalar(n)
        except ValueError as exc:
            self.diag("E103", str(exc), n.start_mark, pointer)
            return None

    def mapping(self, n: Any, pointer: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in n.value:
            key = self.key(key_node, pointer, out)
            if key is not None:
                out[key] = self.build(value_node, pointer_join(pointer, key), depth + 1)
        return out

    def key(self, key_node: Any, pointer: str, seen: dict[str, Any]) -> str | None:
        """The text of a mapping key as written (01 stays "01"), or None for a key that is refused."""
        if key_node.tag == _CORE + "merge" or (isinstance(key_node, yaml.ScalarNode)
                                               and key_node.value == "<<" and not key_node.style):
            # YAML 1.1 merges a plain '<<' key; the core schema would keep it as a key: neither is wanted
            self.diag("E004", "merge keys ('<<') are not allowed", key_node.start_mark, pointer,
                      "write the keys out, or use 'extends' to build on another version")
            return None
        if not isinstance(key_node, yaml.ScalarNode):
            self.diag("E103", "a mapping key must be a plain value", key_node.start_mark, pointer)
            return None
        key = str(key_node.value)
        child = pointer_join(pointer, key)
        if key in seen:
            first = self.positions.keys.get(child)
            where = f" (first defined on line {first[0]})" if first else ""
            self.diag("E003", f"duplicate key '{key}'{where}", key_node.start_mark, child,
                      "remove one of the two; YAML would silently keep only the last")
            return None
        self.positions.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return key


def _scan_events(text: str) -> tuple[str, str, Any] | None:
    """The first anchor or alias, or too many values, from the parser's events (before any node
    is built, so that neither an alias bomb nor a huge document is ever composed in memory)."""
    loader = _CoreLoader(text)
    nodes = 0
    expects_key: list[bool | None] = []  # per open collection: a mapping's next node is a key (True)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return "E004", "anchors and aliases ('&name', '*name') are not allowed in rulesets", event.start_mark
            if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                is_key = bool(expects_key) and expects_key[-1] is True
                if expects_key and expects_key[-1] is not None:
                    expects_key[-1] = not expects_key[-1]
                if not is_key:
                    nodes += 1
                    if nodes > MAX_NODES:
                        return "E005", f"the document has more than {MAX_NODES} values", event.start_mark
                if isinstance(event, yaml.MappingStartEvent):
                    expects_key.append(True)
                elif isinstance(event, yaml.SequenceStartEvent):
                    expects_key.append(None)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                expects_key.pop()
    finally:
        loader.dispose()
    return None


def _scalar(n: Any) -> Any:
    tag, text = n.tag, n.value
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
