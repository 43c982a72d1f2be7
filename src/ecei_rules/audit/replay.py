"""Verify a decision log's chain, replay it byte for byte, or replay it under another version.

``verify`` needs nothing but the log. Every row is checked on its own, in one pass: its columns
hold the expected types; its text is the RFC 8785 canonical JSON of a record (so no member is
there twice and the text is read one way only); the record's content matches its hash, and the
seq, hash and prev_hash columns match the record, for every row (a SQLite row's seq column is its
position, a whole number from 1: a row whose seq column is 0 or below is ``misplaced``, never read
as a line of an export); every field is what it claims to be (the methodology an id, never a path;
the version and the engine version semvers; the record id ``<methodology>@<version>#<seq>``; the
input's hash; the decision's methodology, version and ruleset hash the record's; the decision time
an ISO 8601 date and time). Then, over what one pass kept (seq, hash and prev_hash of each record:
memory linear in the rows, time n log n whatever the seq numbers claim), the order: gaps,
duplicates, records out of place, and the chain. A row that is there but cannot be read (a
``bad_row``, or ``corrupt``) holds its place: a row whose seq column is a position holds that
position, and an unreadable line of an export the gap it leaves between the records around it, so
no record is named as removed that is there (the chain is not followed across such a row). A log
cut exactly at a record boundary is still such a log; only what was kept outside it (the head hash
of the last acknowledged record, the record count) shows the cut, so ``verify`` checks them when
given (:func:`tail_problems`).

``replay`` runs every check of ``verify`` first, in the same pass, then decides each record's
input again under the ruleset its methodology id and version name, found only in the registry
the auditor chose and only when its content hash is the recorded one, and compares the
canonical bytes of the decisions. A decision that differs, or an input that is no longer valid,
is ``altered`` (the record no longer matches its hash, or the engine and ruleset are the same and
the record's own input gives another decision, or is refused, which an engine never records: it
was edited and its hashes recomputed) or ``engine_changed`` (another engine version decided it).
When the registry's version hashes otherwise than the record says, its lock tells which is the
published one: ``unpublished_ruleset`` when the registry's file still hashes to its locked hash
(the record was decided under rules never published, an edit of that version; so too when the
record names the registry's file and the lock another hash), ``ruleset_changed`` when the
registry's file no longer matches its lock, or the lock has no entry for it (the file was edited
without a new version).

:func:`stored_record_hash` is the hash a stored text is the bytes of, which the Merkle tree of the
signed checkpoints (:mod:`ecei_rules.audit.proofs`) is computed from, never from a hash column.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import semver
from pydantic import ValidationError

try:  # parses a record's input three times faster than the standard library
    import orjson as _orjson
except ImportError:  # pragma: no cover - a platform without its wheel
    _orjson = None  # type: ignore[assignment]

from ecei_rules.audit.log import StoredRecord
from ecei_rules.audit.record import GENESIS, METHODOLOGY_ID, RECORD_FORMAT, DecisionRecord, valid_time
from ecei_rules.core.canonical import ORJSON_MAX_CHARS, canonical_bytes, canonical_json
from ecei_rules.core.version import __version__
from ecei_rules.engine.decision import Resolution
from ecei_rules.engine.evaluate import decision_text, evaluate
from ecei_rules.errors import AssessmentError, Finding, ResolutionError, RulesetError
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import project
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.subject import DECLARED_KEY, IMPLIED

Progress = Callable[[int], None]

_ID = re.compile(METHODOLOGY_ID)
_HEX = re.compile(r"[0-9a-f]{64}")
#: The members of a record, as the record format writes them.
_MEMBERS = frozenset(DecisionRecord.model_fields)
_STRINGS = ("record_id", "methodology", "version", "ruleset_sha256", "engine_version", "input_sha256",
            "decided_at", "prev_hash", "hash")
#: RFC 8785 writes integers up to 2**53 - 1 only.
_SAFE_INTEGER = 2**53 - 1


@dataclass
class AuditReport:
    """What a verify or replay found."""

    records: int = 0
    findings: list[Finding] = field(default_factory=list)
    head: str | None = None  # verify: the hash of the log's last record (its highest seq), to keep outside it

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def sorted(self) -> list[Finding]:
        """Findings by position (the first bad record first)."""
        return sorted(self.findings, key=lambda f: (abs(f.seq), f.code))

    def to_json(self) -> dict[str, Any]:
        """The report as JSON."""
        first = self.sorted()[0].to_json() if self.findings else None
        out: dict[str, Any] = {"records": self.records, "ok": self.ok, "first": first,
                               "findings": [f.to_json() for f in self.sorted()]}
        if self.head is not None:  # verify's
            out["head"] = self.head
        return out


def _stored_hash_ok(text: str, record: DecisionRecord) -> bool | None:
    """Check the hash over the stored canonical bytes directly: the text without its top-level
    ``hash`` member must hash to it. None when the text is not in the canonical layout."""
    return _canonical_hash_ok(text, record.hash, record.format)


def _canonical_hash_ok(text: str, digest: str, fmt: int) -> bool | None:
    needle = f'"format":{fmt},"hash":"{digest}",'
    if text.count(needle) != 1:
        return None
    body = text.replace(needle, f'"format":{fmt},', 1).encode("utf-8")
    return hashlib.sha256(body).hexdigest() == digest


#: Where a record's text holds its hash: right after its format (keys sorted), once.
_HASH_AT = f'"format":{RECORD_FORMAT},"hash":"'


def stored_record_hash(text: str, raw: bytes | None = None) -> str | None:
    """The record hash H a stored text is the bytes of: the text holds the member ``"hash":"H"`` right
    after ``"format":1`` and, without that member, hashes to H (``raw``: the text's bytes, when the
    reader has them). A canonical text that holds those characters more than once (an input of that
    shape) is parsed: its canonical content must hash to its hash member. None for any other text.

    This is what a Merkle leaf of the log is computed from (never a hash column): a text that hashes to
    H is, but for where the member stands, the exact bytes the record's hash covers (whether it is the
    canonical JSON of a record is verify's check)."""
    at = text.find(_HASH_AT)
    if at < 0:
        return None
    start = at + len(_HASH_AT)
    if text.find(_HASH_AT, start) >= 0:
        return _canonical_record_hash(text)
    digest = text[start:start + 64]
    if text[start + 64:start + 66] != '",' or _HEX.fullmatch(digest) is None:
        return None
    cut, resume = at + len(_HASH_AT) - len('"hash":"'), start + 66
    if raw is not None and text.isascii():
        whole = memoryview(raw)
        body = hashlib.sha256(whole[:cut])
        body.update(whole[resume:])
    else:
        try:
            body = hashlib.sha256(text[:cut].encode("utf-8"))
            body.update(text[resume:].encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: no record's bytes
            return None
    return digest if body.hexdigest() == digest else None


def _canonical_record_hash(text: str) -> str | None:
    """The hash member of a text that is the canonical JSON of an object whose content hashes to it."""
    try:
        data = _load(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or type(data.get("hash")) is not str or _HEX.fullmatch(data["hash"]) is None \
            or not is_canonical(text, data):
        return None
    digest: str = data["hash"]
    return digest if _content_hash(text, data, False) == digest else None


def _same(a: Any, b: Any) -> bool:
    """JSON equality that tells true from 1 (so equal means equal canonical bytes)."""
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _parse(row: StoredRecord) -> DecisionRecord | None:
    try:
        return DecisionRecord.model_validate_json(row.text)
    except (ValidationError, ValueError):
        return None


def records(rows: Iterable[StoredRecord], report: AuditReport,
            progress: Progress | None = None) -> Iterator[tuple[StoredRecord, DecisionRecord]]:
    """The readable records of a log with their rows; counts every row in ``report``, reports each
    unreadable one as ``corrupt``, and ticks ``progress``."""
    for row in rows:
        report.records += 1
        position = report.records
        if progress is not None:
            progress(position)
        record = _parse(row)
        if record is None:
            report.findings.append(Finding("corrupt", f"position {position}: not a decision record "
                                           "(unreadable or incomplete)", seq=_row_seq(row),
                                           details={"text": row.text[:200]}))
            continue
        yield row, record


# -- canonical form ------------------------------------------------------------------------------

#: Where orjson's text of a value may differ from RFC 8785's: a number in exponent form or an
#: integral float (2.0 against 2); an integer beyond 2**53 (which RFC 8785 refuses) makes orjson
#: raise (OPT_STRICT_INTEGER). Strings are escaped alike, and keys sorted alike but for characters
#: beyond the Basic Multilingual Plane (checked apart); the tests check these claims on generated
#: values. The text is first mapped to a few classes of bytes (one C loop), then searched for
#: three short needles: a regular expression over a 34 KB record costs ten times more, so it only
#: confirms an integral float where the needle ``.0,`` is found, which a version in prose
#: (``"before 3.0.0, so"``) also gives: a number begins right after ``:``, ``,`` or ``[`` (all of
#: class ``,``). A string that merely looks like such a number sends the value to
#: ``canonical_json``, which decides exactly, more slowly.
_CLASSES = bytes.maketrans(b"0123456789eE+-.,}]:[", b"0dddddddddee++.,,,,,")
_CLASSES = bytes(c if c in b"0de+.," else 32 for c in _CLASSES)
_INTEGRAL = re.compile(rb"(?:^|,)\+?[d0]+\.0(?:,|$)")
_ORJSON_OPTIONS = 0 if _orjson is None else _orjson.OPT_SORT_KEYS | _orjson.OPT_STRICT_INTEGER


def _risky_numbers(raw: bytes) -> bool:
    """Whether orjson's text ``raw`` may write a number otherwise than RFC 8785 (see above)."""
    classes = raw.translate(_CLASSES)
    if b"de+" in classes or b"0e+" in classes:
        return True
    return (b".0," in classes or classes.endswith(b".0")) and _INTEGRAL.search(classes) is not None


def _load(text: str) -> Any:
    """JSON text to values (orjson; the standard library where orjson refuses: NaN and Infinity
    are refused by both; a text longer than ORJSON_MAX_CHARS by the standard library). Raises ValueError for
    text that is not JSON."""
    if _orjson is not None and len(text) <= ORJSON_MAX_CHARS:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass
    return _STRICT.decode(text)


def _fast_text(value: Any) -> bytes | None:
    """orjson's text of a value when it is surely its RFC 8785 text, else None."""
    if _orjson is None:
        return None
    try:
        text = _orjson.dumps(value, option=_ORJSON_OPTIONS)
    except (TypeError, ValueError):
        return None
    if _risky_numbers(text) or (not text.isascii() and max(text.decode("utf-8")) > "\uffff"):
        return None
    return text


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON of JSON values (orjson's text when it is surely the same, else
    ``canonical_json``); raises ValueError or TypeError where there is none."""
    fast = _fast_text(value)
    return fast if fast is not None else canonical_json(value)


def is_canonical(text: str, value: Any) -> bool:
    """Whether ``text`` is exactly the RFC 8785 canonical JSON of ``value`` (which was parsed from
    it): then no member is there twice, keys are sorted, numbers and strings written one way."""
    raw = text.encode("utf-8", "surrogatepass")
    try:
        return canonical(value) == raw
    except (TypeError, ValueError, RecursionError):
        pass
    try:  # an integer beyond 2**53 in the text is a double written whole (1e16 is "10000000000000000")
        return canonical_json(_as_doubles(value)) == raw
    except (TypeError, ValueError, RecursionError):
        return False


def _as_doubles(value: Any) -> Any:
    """JSON values with every integer beyond 2**53 read as the double RFC 8785 takes it for."""
    if type(value) is int and abs(value) > _SAFE_INTEGER:
        return float(value)
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    return value


def _duplicate_member(text: str) -> str | None:
    """The JSON pointer of the first member that an object of the text holds twice, if any."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and not found:
                found.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    return found[0] if found else None


# -- the checks of one row -----------------------------------------------------------------------

class _Link(NamedTuple):
    """What the order and chain checks keep of a record (a named tuple: one is made per record)."""

    seq: int
    hash: str
    prev_hash: str | None  # None: a row that claims this seq but is not a readable record
    intact: bool  # its content matches its hash


def _from_sqlite(row: StoredRecord) -> bool:
    """Whether a row was read from SQLite, whose seq column is its own (a JSON Lines reader takes a line's
    seq from its text, or minus its line number when it has none; it never has a problem nor raw bytes)."""
    return row.raw is not None or bool(row.problem)


def _line(row: StoredRecord) -> bool:
    """Whether a row's seq is minus the line number of a JSON Lines line that names no seq."""
    return row.seq < 0 and not _from_sqlite(row)


def _where(row: StoredRecord, position: int) -> str:
    if _line(row):
        return f"line {-row.seq}"
    if row.seq < 1 and _from_sqlite(row):
        return f"the row at position {position} (its seq column holds {row.seq})"
    return f"the row at position {position}"


def _row_seq(row: StoredRecord) -> int:
    """The seq a finding about a row that is not a readable record names: its seq when it is a position
    (from 1), minus its line number for a line of an export, else 0 (a row that names no record)."""
    return row.seq if row.seq >= 1 or _line(row) else 0


def check_record(row: StoredRecord, position: int, findings: list[Finding]) -> tuple[dict[str, Any], _Link] | None:
    """Every check of one stored row on its own (types, canonical form, hashes, fields); appends
    what it finds to ``findings``. Returns the record and its link; for a row that is not a record
    but claims a seq, an empty record and a link that holds its place (no prev_hash); None for a
    row that claims none. Its finding is then ``bad_row`` or ``corrupt``."""
    data = _readable(row, position, findings)
    if data is None:
        # a row that holds a position but no readable record is there all the same: it holds its place
        # (no gap is named where nothing was removed), and the chain is not followed across it
        return ({}, _Link(row.seq, "", None, False)) if row.seq >= 1 else None
    problems = _shape(data)
    if problems:
        claimed = data.get("seq")
        at = claimed if type(claimed) is int and claimed >= 1 else _row_seq(row)
        findings.append(Finding("corrupt", f"{_where(row, position)}: not a decision record: "
                                f"{'; '.join(problems)}", seq=at, details={"text": row.text[:200]}))
        return ({}, _Link(at, "", None, False)) if at >= 1 else None
    seq = int(data["seq"])
    in_form = is_canonical(row.text, data)
    if not in_form:
        findings.append(_form_finding(row.text, seq))
    record_hash: str = data["hash"]
    computed = _content_hash(row.text, data, in_form)
    intact = computed == record_hash
    input_ok = _input_hash_ok(data)
    if not intact:
        what = " (its input no longer matches input_sha256)" if not input_ok else ""
        findings.append(Finding("hash_mismatch", f"record {seq} was altered after it was written: its "
                                f"content does not match its hash{what}",
                                seq=seq, details={"stored_hash": record_hash, "computed_hash": computed,
                                 "input_edited": not input_ok}))
    # every row's columns against its record, whatever its seq column holds (an export's are its text's)
    findings.extend(_column_findings(row, data, seq, computed))
    findings.extend(_fields(data, input_ok or not intact))
    return data, _Link(seq, record_hash, data["prev_hash"], intact)


def _readable(row: StoredRecord, position: int, findings: list[Finding]) -> dict[str, Any] | None:
    """The row's JSON object; None (with its finding, ``bad_row`` or ``corrupt``) when it has none."""
    if row.problem:
        findings.append(Finding("bad_row", f"{_where(row, position)} is not a stored record: "
                                f"{row.problem}", seq=_row_seq(row)))
        return None
    try:
        data = _load(row.text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        findings.append(Finding("corrupt", f"{_where(row, position)}: not a decision record (unreadable "
                                "or incomplete)", seq=_row_seq(row), details={"text": row.text[:200]}))
        return None
    return data


def _form_finding(text: str, seq: int) -> Finding:
    """Why a record's text is not its canonical JSON: a member held twice, or another form."""
    twice = _duplicate_member(text)
    if twice is not None:
        return Finding("duplicate_member", f"record {seq} holds the member '{twice}' twice: "
                       "a record is read one way only", seq=seq)
    return Finding("not_canonical", f"record {seq}: its stored text is not the canonical "
                   "JSON (RFC 8785) of its content: other spacing, member order, escapes or "
                   "number forms", seq=seq)


def _content_hash(text: str, data: dict[str, Any], in_form: bool) -> str:
    """The hash of a record's content without its hash member ('' when it has no canonical JSON);
    a canonical text whose stored bytes hash to its hash member is not encoded again."""
    record_hash: str = data["hash"]
    if in_form and _canonical_hash_ok(text, record_hash, RECORD_FORMAT) is True:
        return record_hash
    try:
        return hashlib.sha256(canonical({k: v for k, v in data.items() if k != "hash"})).hexdigest()
    except (TypeError, ValueError, RecursionError):
        return ""


def _input_hash_ok(data: dict[str, Any]) -> bool:
    """Whether a record's input hashes to its input_sha256."""
    try:
        return bool(hashlib.sha256(canonical(data["input"])).hexdigest() == data["input_sha256"])
    except (TypeError, ValueError, RecursionError):
        return False


def _column_findings(row: StoredRecord, data: dict[str, Any], seq: int, computed: str) -> list[Finding]:
    """A SQLite row's columns (seq, hash, prev_hash) against the record it stores."""
    out: list[Finding] = []
    record_hash = data["hash"]
    if row.hash != record_hash:
        out.append(Finding("hash_mismatch", f"record {seq}: its hash column ({row.hash[:16]}…) is not "
                           f"the record's hash ({record_hash[:16]}…): the column was edited",
                           seq=seq,
                           details={"column_hash": row.hash, "record_hash": record_hash, "computed_hash": computed}))
    if row.prev_hash != data["prev_hash"]:
        out.append(Finding("hash_mismatch", f"record {seq}: its prev_hash column "
                           f"({row.prev_hash[:16]}…) is not the record's prev_hash "
                           f"({data['prev_hash'][:16]}…): the column was edited",
                           seq=seq, details={"column_prev_hash": row.prev_hash, "record_prev_hash": data["prev_hash"]}))
    if row.seq < 1:
        out.append(Finding("misplaced", f"record {seq} is stored in a row whose seq column holds {row.seq}: a "
                           "row's seq is its position, a whole number from 1, and its record's seq", seq=seq,
                           details={"column_seq": row.seq}))
    elif row.seq != seq:
        out.append(Finding("misplaced", f"record {seq} is stored at position {row.seq}", seq=seq))
    return out


def _shape(data: dict[str, Any]) -> list[str]:
    """What keeps a JSON object from being a record: members missing or unknown, a value of the
    wrong type."""
    problems = []
    missing = sorted(_MEMBERS - data.keys())
    extra = sorted(data.keys() - _MEMBERS)
    if missing:
        problems.append(f"member(s) missing: {', '.join(missing)}")
    if extra:
        problems.append(f"member(s) a record does not have: {', '.join(repr(k) for k in extra[:5])}")
    seq = data.get("seq")
    if "seq" in data and (type(seq) is not int or seq < 1):
        problems.append(f"its seq is {json.dumps(seq)[:40]}, not a whole number from 1")
    if "format" in data and (type(data["format"]) is not int or data["format"] != RECORD_FORMAT):
        problems.append(f"its format is {json.dumps(data['format'])[:40]}, not {RECORD_FORMAT}")
    problems += [f"its {key} is not a string" for key in _STRINGS if key in data and type(data[key]) is not str]
    problems += [f"its {key} is not an object" for key in ("decision", "resolution")
                 if key in data and type(data[key]) is not dict]
    return problems


#: A semantic version (semver.org 2.0.0's grammar, ASCII digits only), as every engine writes its engine_version.
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
                     r"(?:-(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
                     r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?")


def _engine_version_ok(text: str) -> bool:
    """Whether a record's engine_version is a version text (a semver of at most 64 characters), as every
    engine writes it."""
    return len(text) <= 64 and _SEMVER.fullmatch(text) is not None


def _fields(data: dict[str, Any], input_ok: bool) -> list[Finding]:
    """Each field of a well-shaped record against what it claims (``input_ok``: its input matches
    input_sha256, or its whole content does not match its hash, which says it already)."""
    seq, methodology, version = data["seq"], data["methodology"], data["version"]
    out: list[Finding] = []
    if _ID.fullmatch(methodology) is None:
        out.append(Finding("bad_reference", f"record {seq} names its methodology {methodology[:80]!r}, which is "
                           "not a methodology id (lowercase letters, digits and '-'): a record names its ruleset "
                           "by id, version and content hash, never by path", seq=seq))
    if not semver.Version.is_valid(version):
        out.append(Finding("bad_reference", f"record {seq} names the version {version[:40]!r}, which is not "
                           "a semantic version (e.g. 3.0.1)", seq=seq))
    if _HEX.fullmatch(data["ruleset_sha256"]) is None:
        out.append(Finding("bad_reference", f"record {seq}: its ruleset_sha256 is not a SHA-256 (64 lowercase "
                           "hexadecimal digits)", seq=seq))
    expected_id = f"{methodology}@{version}#{seq}"
    if data["record_id"] != expected_id:
        out.append(Finding("bad_field", f"record {seq}: its record_id {data['record_id'][:80]!r} is not "
                           f"'<methodology>@<version>#<seq>' ({expected_id[:80]!r})", seq=seq))
    decision = data["decision"]
    for key in ("methodology", "version", "ruleset_sha256"):
        if decision.get(key) != data[key]:
            out.append(Finding("bad_field", f"record {seq}: its {key} is {data[key][:80]!r} but its decision's "
                               f"is {json.dumps(decision.get(key))[:80]}", seq=seq))
    if not input_ok:
        out.append(Finding("bad_field", f"record {seq}: its input_sha256 is not the hash of its input (the "
                           "input was changed and the record's hash recomputed)", seq=seq))
    if not valid_time(data["decided_at"]):
        out.append(Finding("bad_field", f"record {seq}: its decided_at {data['decided_at'][:40]!r} is not an "
                           "ISO 8601 date and time", seq=seq))
    if not _engine_version_ok(data["engine_version"]):
        out.append(Finding("bad_field", f"record {seq}: its engine_version {data['engine_version'][:40]!r} is not "
                           "a version of ecei-rules (a semantic version, e.g. 0.2.0)", seq=seq))
    resolution = data["resolution"]
    try:
        if resolution.keys() != {"method", "reason"}:
            raise ValueError
        Resolution.model_validate(resolution, strict=True)
    except (ValueError, ValidationError):
        out.append(Finding("bad_field", f"record {seq}: its resolution is not a method ('in_force' or "
                           "'pinned') and a reason", seq=seq))
    if seq > _SAFE_INTEGER:
        out.append(Finding("bad_field", f"record {seq}: its seq is beyond 2**53 - 1, which canonical JSON "
                           "cannot write exactly", seq=seq))
    return out


# -- order and chain, over one pass --------------------------------------------------------------

class _Chain:
    """Order and chain checks over what one pass keeps of each record: memory linear in the rows,
    time n log n, whatever the seq numbers claim."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        self.arrival: list[int] = []  # seqs, first occurrences, in the order the rows came
        self.links: dict[int, _Link] = {}
        # for each row that names no seq (an unreadable line of an export, a row whose seq column is not a
        # position), how many records had come before it: where it stands among them
        self.unread: list[int] = []

    def unreadable(self) -> None:
        """A row that names no seq came next: it stands there, unread (see :meth:`_unread_between`)."""
        self.unread.append(len(self.arrival))

    def add(self, link: _Link) -> None:
        if link.seq in self.links:
            self.report.findings.append(Finding("duplicate", f"record {link.seq} appears twice", seq=link.seq))
            return
        self.links[link.seq] = link
        self.arrival.append(link.seq)

    def finish(self, *, expect_head: str | None = None, expect_count: int | None = None) -> None:
        report, links = self.report, self.links
        ordered = sorted(links)
        self._reordered(ordered)
        missing = self._gaps_and_chain(ordered)
        last_seq = ordered[-1] if ordered else 0
        report.head = links[last_seq].hash if ordered else GENESIS
        hashes = {link.hash: seq for seq, link in links.items()} if expect_head is not None else None
        for seq, message in tail_problems(report.records, last_seq, report.head, hashes, head=expect_head,
                                          count=expect_count, missing=missing):
            report.findings.append(Finding("unexpected_end", message, seq=seq))

    def _reordered(self, ordered: list[int]) -> None:
        """A record that did not arrive at its rank among the seqs."""
        rank = {seq: i for i, seq in enumerate(ordered, 1)}
        for position, seq in enumerate(self.arrival, 1):
            if rank[seq] != position:
                self.report.findings.append(Finding("reordered", f"record {seq} stands at position "
                                                    f"{position}: records were reordered", seq=seq))

    def _gaps_and_chain(self, ordered: list[int]) -> int:
        """Gaps in the seqs and breaks of the chain, in seq order; returns how many seqs are missing. A gap
        where as many unreadable rows stand (between the records before and after it, as the rows came) is
        not missing: those rows are there, unread (their own findings say why), and the chain is not
        followed across them."""
        before, missing = 0, 0
        expected: str | None = GENESIS
        index = {seq: i for i, seq in enumerate(self.arrival)} if self.unread else {}
        for seq in ordered:
            if seq > before + 1:
                first, last = before + 1, seq - 1
                held = self._unread_between(index, before, seq)
                if held >= last - first + 1:
                    expected = None
                else:
                    missing += last - first + 1 - held
                    self.report.findings.append(self._missing(first, last, held))
            link = self.links[seq]
            if link.prev_hash is not None and expected is not None and link.prev_hash != expected:
                self.report.findings.append(_chain_break(link, before, expected))
            before, expected = seq, (link.hash if link.prev_hash is not None else None)
        return missing

    def _unread_between(self, index: dict[int, int], before: int, after: int) -> int:
        """How many unreadable rows came between record ``before`` (0: the start) and record ``after``, when
        the two came in that order."""
        if not self.unread:
            return 0
        low = index[before] + 1 if before else 0
        high = index[after]
        if high < low:
            return 0
        return bisect.bisect_right(self.unread, high) - bisect.bisect_left(self.unread, low)

    def _missing(self, first: int, last: int, held: int) -> Finding:
        message = f"record {first} is missing (removed from the log)" if first == last else \
            f"records {first} to {last} are missing ({last - first + 1:,} records removed from the log)"
        if held:
            message += f"; {held} row(s) that cannot be read stand among them"
        elif self.unread:
            message += f"; {len(self.unread)} row(s) of the log cannot be read and may hold them"
        return Finding("missing", message, seq=first)


def _chain_break(link: _Link, before: int, expected: str) -> Finding:
    """Record ``link.seq`` does not name the hash of ``before``, the record that precedes it (0: none)."""
    seq = link.seq
    gap = f" (record {seq - 1} is missing)" if before != seq - 1 and seq - 1 == before + 1 else \
        f" (records {before + 1} to {seq - 1} are missing)" if before != seq - 1 else ""
    after = f"record {before}" if before else "the start of the log"
    return Finding("chain_break", f"record {seq} does not follow {after}{gap}: its "
                   "prev_hash is not that record's hash" if before else
                   f"record {seq} does not follow {after}{gap}: its prev_hash is not 64 "
                   "zeros", seq=seq, details={"prev_hash": link.prev_hash, "expected": expected})


def tail_problems(total: int, last_seq: int, last_hash: str, hashes: dict[str, int] | None = None, *,
                  head: str | None = None, count: int | None = None, missing: int = 0) -> list[tuple[int, str]]:
    """What is wrong with a log's end against what was kept outside it: the hash of the last
    acknowledged record (``head``) and the number of records (``count``). ``total`` is the
    number of rows, ``last_seq`` and ``last_hash`` the last record's; with ``hashes`` (every
    record's seq by hash) an expected head found earlier in the log is named; ``missing``
    is how many seq numbers below ``last_seq`` no record has (removed from the middle, not the
    tail). Each problem comes with the seq of the last record it concerns, inside the log (0 for
    a log with no record); an empty list means the log ends where it should."""
    problems: list[tuple[int, str]] = []
    if count is not None and total != count:
        if total < count:
            tail = max(0, count - last_seq)
            where = []
            if missing:
                where.append(f"{missing} from the middle (see the missing records)")
            if tail:
                where.append(f"{tail} from its tail" + (f" (after record {last_seq})" if missing else ""))
            what = f": {count - total} record(s) were removed" + (f", {' and '.join(where)}" if missing else
                                                                   " from its tail" if tail else "")
        else:
            what = f": {total - count} record(s) more than were acknowledged"
        problems.append((min(last_seq, count + 1) if total > count else last_seq,
                         f"the log holds {total} record(s), {count} expected{what}"))
    if head is not None and last_hash != head:
        at = (hashes or {}).get(head)
        if at is not None:
            problems.append((at + 1, f"the log goes on after the expected head (record {at}): it ends at record "
                                     f"{last_seq}, {last_seq - at} record(s) later"))
        else:
            problems.append((last_seq, f"the log ends at record {last_seq} hashed {last_hash[:16]}…, not at the "
                                       f"expected head {head[:16]}…" + ("" if hashes is None else
                                       ", which no record in it has: its tail was removed or rewritten")))
    return problems


def lacks_records(finding: Finding) -> bool:
    """Whether a finding of `tail_problems` says the log lacks records at its end: fewer than expected ("removed
    from its tail"), or an expected head no record has ("its tail was removed or rewritten"); not one that it
    holds more, nor that it goes on after the expected head."""
    return finding.code == "unexpected_end" and "tail" in finding.message


def verify(rows: Iterable[StoredRecord], *, progress: Progress | None = None, expect_head: str | None = None,
           expect_count: int | None = None) -> AuditReport:
    """Check every row on its own (types, canonical form, hashes, every field), then the order and
    the chain of the records; with ``expect_head`` or ``expect_count`` (kept outside the log), also
    that the log ends there (a cut at a record boundary shows only this way). One pass over the
    rows. The report's ``head`` is the last record's hash."""
    report = AuditReport()
    chain = _Chain(report)
    for row in rows:
        report.records += 1
        if progress is not None:
            progress(report.records)
        checked = check_record(row, report.records, report.findings)
        if checked is not None:
            chain.add(checked[1])
        else:
            chain.unreadable()
    chain.finish(expect_head=expect_head, expect_count=expect_count)
    return report


# -- replay --------------------------------------------------------------------------------------

class _Rulesets:
    """Finds the ruleset a record names: by methodology id and version, in the auditor's registry
    only, and only when its content hash is the recorded one."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.found: dict[tuple[str, str], Ruleset | str] = {}
        self.locks: dict[tuple[str, str], str | None] = {}
        self.resolutions: dict[tuple[str, str], Resolution] = {}

    def resolution(self, method: str, reason: str) -> Resolution:
        """A record's resolution as a model, remembered (raises ValidationError for wrong values)."""
        key = (method, reason)
        found = self.resolutions.get(key)
        if found is None:
            found = Resolution.model_validate({"method": method, "reason": reason})
            if len(self.resolutions) < 256:
                self.resolutions[key] = found
        return found

    def version(self, methodology: str, version: str) -> Ruleset | str:
        """The registry's ruleset of a version, or why there is none. A methodology that is not an id
        or a version that is not a semver is never looked up (a record cannot name a path)."""
        key = (methodology, version)
        found = self.found.get(key)
        if found is None:
            if _ID.fullmatch(methodology) is None or not semver.Version.is_valid(version):
                return f"{methodology[:80]!r} {version[:40]!r} is not a methodology id and a version"
            try:
                found = self.registry.load(methodology, version)
            except (ResolutionError, RulesetError) as exc:
                found = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if len(self.found) < 4096:
                self.found[key] = found
        return found

    def find(self, methodology: str, version: str, sha256: str) -> tuple[Ruleset | None, str]:
        """The ruleset when the registry's version hashes to ``sha256``; else None and why."""
        found = self.version(methodology, version)
        if isinstance(found, str):
            return None, found
        if found.sha256 != sha256:
            return None, (f"{methodology} {version} now hashes to {found.sha256[:16]}…, not {sha256[:16]}…: "
                          "its file was edited without a new version")
        if self.locked(methodology, version) not in (None, sha256):
            return None, "decided under an edit of a published version"
        return found, ""

    def locked(self, methodology: str, version: str) -> str | None:
        """The hash the registry's lock records for a published version (None when it records none);
        a lock that cannot be used is a RulesetError's first line. Read once per replay: the lock
        is part of the registry the auditor chose."""
        key = (methodology, version)
        if key in self.locks:
            return self.locks[key]
        try:
            found = self.registry.read_lock(methodology).get(version)
        except RulesetError as exc:
            found = exc.diagnostics[0].message if exc.diagnostics else str(exc)
        if len(self.locks) < 4096:
            self.locks[key] = found
        return found


def _differences(recorded: dict[str, Any], replayed: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("label", "valid_from", "valid_until", "version", "ruleset_sha256"):
        if recorded.get(key) != replayed.get(key):
            out[key] = {"recorded": recorded.get(key), "replayed": replayed.get(key)}
    rc = {c.get("id"): c.get("outcome") for c in recorded.get("criteria", []) if isinstance(c, dict)}
    pc = {c.get("id"): c.get("outcome") for c in replayed.get("criteria", []) if isinstance(c, dict)}
    changed = {k: {"recorded": rc.get(k), "replayed": pc.get(k)} for k in sorted(set(rc) | set(pc), key=str)
               if rc.get(k) != pc.get(k)}
    if changed:
        out["criteria"] = changed
    if not out:
        out["trace"] = "the decisions differ in their trace (inputs read, parameters or scores)"
    return out


# The canonical layout of a record whose strings need no escapes (anything else is replayed the
# slow way): the members before the decision, between it and the input, and after the input.
_PLAIN = r'"([^"\\\x00-\x1f]*)"'
_HEAD = re.compile(rf'\{{"decided_at":{_PLAIN},"decision":')
_MIDDLE = re.compile(rf',"engine_version":{_PLAIN},"format":(-?(?:0|[1-9]\d*)),"hash":{_PLAIN},"input":')
_TAIL = re.compile(rf',"input_sha256":{_PLAIN},"methodology":{_PLAIN},"prev_hash":{_PLAIN},"record_id":{_PLAIN},'
                   rf'"resolution":\{{"method":{_PLAIN},"reason":{_PLAIN}\}},"ruleset_sha256":{_PLAIN},'
                   rf'"seq":([1-9]\d*),"version":{_PLAIN}\}}')


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_STRICT = json.JSONDecoder(parse_constant=_no_constant)
def _input(text: str, typed: bool) -> Any:
    """A record's input text parsed as the standard library parses it (NaN and Infinity refused).

    For a version whose inputs all have a type (``typed``), orjson parses it, three times
    faster: the two give the same values except for an integer beyond 64 bits, which orjson
    reads as a float, and no typed input takes either (an integer beyond 2**53 is refused, and
    so are a float where an integer is declared and a decimal of more than 15 digits). Where
    orjson refuses a text (a lone surrogate, a number beyond the double range), the standard
    library reads it, and so it does a text longer than ORJSON_MAX_CHARS (orjson cannot run out of memory
    cleanly).
    """
    if typed and _orjson is not None and len(text) <= ORJSON_MAX_CHARS:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass
    return _STRICT.decode(text)


def reproduced(text: str, rulesets: _Rulesets) -> bool:
    """True when a stored record passes every check of ``verify`` on its own and deciding its
    input again, under the exact version it names, gives its decision byte for byte
    (:func:`_reproduced`)."""
    return _reproduced(text, rulesets) is not None


def _reproduced(text: str, rulesets: _Rulesets, raw: bytes | None = None) -> _Link | None:
    """The link of a stored record that is well formed, canonical, intact (its content matches its
    hash), whose fields are what they claim, and whose decision is reproduced byte for byte; None
    otherwise ("not shown here": the caller then checks and replays it the slow way, which says
    what is wrong).

    The record's own layout is used to find its parts without parsing the decision: the small
    members are matched by anchored patterns that admit only their canonical form, the recorded
    decision text is compared with the canonical text of the new decision, written directly
    (:func:`ecei_rules.engine.evaluate.decision_text`), and the input, the one part written by
    neither, is checked to be canonical and to hash to input_sha256. ``raw``, the text's bytes
    when the reader has them, spares encoding it again for the hash.
    """
    layout = _Layout.match(text)
    if layout is None or not layout.plain_members_ok():
        return None
    try:
        expected = layout.decision_text(rulesets)
    except (ValueError, ValidationError, AssessmentError, RecursionError):
        return None
    if expected is None or layout.start + len(expected) != layout.stop or not text.startswith(expected, layout.start):
        return None
    if not layout.hash_ok(raw):
        return None
    return _Link(int(layout.tail.group(8)), layout.digest, layout.tail.group(3), True)


class _Layout(NamedTuple):
    """A record's text cut by its canonical layout: the members before the decision (``head``), the
    decision from ``start`` to ``stop``, the members between it and the input (``middle``), the
    input up to ``tail_at``, and the members after it (``tail``). A named tuple: one is made per
    record replayed."""

    text: str
    head: re.Match[str]
    middle: re.Match[str]
    tail: re.Match[str]
    tail_at: int

    @property
    def start(self) -> int:
        return self.head.end()

    @property
    def stop(self) -> int:
        return self.middle.start()

    @property
    def digest(self) -> str:
        return self.middle.group(3)

    @classmethod
    def match(cls, text: str) -> _Layout | None:
        """The parts of a text in the canonical layout of a record, or None."""
        head = _HEAD.match(text)
        if head is None:
            return None
        start = head.end()
        # no string in the tail holds a quote, so the last '","input_sha256":"' begins the tail
        tail_at = text.rfind(',"input_sha256":"', start)
        tail = _TAIL.fullmatch(text, tail_at) if tail_at > 0 else None
        if tail is None:
            return None
        # searched backwards over the input only; wherever it is found, the decision is accepted only
        # when the text is exactly these parts, each a complete JSON value (so it parses to them)
        stop = text.rfind(',"engine_version":"', start, tail_at)
        middle = _MIDDLE.match(text, stop) if stop > 0 else None
        if middle is None:
            return None
        return cls(text, head, middle, tail, tail_at)

    def plain_members_ok(self) -> bool:
        """The small members are what they claim: format 1, hashes, an engine version (a semver), the time,
        the record id and a seq canonical JSON writes exactly."""
        _, methodology, prev_hash, record_id, _, _, _, seq_text, version = self.tail.groups()
        return self.middle.group(2) == "1" and _HEX.fullmatch(self.digest) is not None \
            and _HEX.fullmatch(prev_hash) is not None and _engine_version_ok(self.middle.group(1)) \
            and valid_time(self.head.group(1)) and record_id == f"{methodology}@{version}#{seq_text}" \
            and len(seq_text) <= 15

    def decision_text(self, rulesets: _Rulesets) -> str | None:
        """The canonical text of the decision the record's input gets again under the exact version
        it names; None when there is no such version or the input is not canonical or not its hash.
        Raises what reading the resolution, the input or deciding raises."""
        input_sha256, methodology, _, _, method, reason, ruleset_sha256, _, version = self.tail.groups()
        resolution = rulesets.resolution(method, reason)
        ruleset, _ = rulesets.find(methodology, version, ruleset_sha256)
        if ruleset is None or ruleset.methodology != methodology or ruleset.version != version:
            return None
        input_text = self.text[self.middle.end():self.tail_at]
        data = _input(input_text, ruleset.plan.validator.typed)
        if hashlib.sha256(input_text.encode("utf-8")).hexdigest() != input_sha256 \
                or not is_canonical(input_text, data):
            return None
        return decision_text(ruleset, data, resolution=resolution)

    def hash_ok(self, raw: bytes | None) -> bool:
        """The text without its hash member hashes to it (``raw``: the text's bytes, when known)."""
        text = self.text
        cut, resume = self.middle.start(3) - len('"hash":"'), self.middle.end(3) + 2
        if text.isascii():
            whole = memoryview(raw if raw is not None else text.encode("ascii"))
            body = hashlib.sha256(whole[:cut])
            body.update(whole[resume:])
        else:
            body = hashlib.sha256(text[:cut].encode("utf-8"))
            body.update(text[resume:].encode("utf-8"))
        return body.hexdigest() == self.digest


def replay(rows: Iterable[StoredRecord], registry: Registry, *, progress: Progress | None = None,
           expect_head: str | None = None, expect_count: int | None = None) -> AuditReport:
    """Check every record as ``verify`` does, in the same pass, and decide each again under the
    exact version it names, comparing byte for byte.

    A record that passes every check and whose decision is reproduced exactly (:func:`reproduced`)
    needs nothing more; any other is checked in full (its findings are verify's) and, when it names
    a ruleset the registry has with its hash, decided again and compared member by member, to
    report what differs and why.
    """
    report = AuditReport()
    chain = _Chain(report)
    rulesets = _Rulesets(registry)
    for row in rows:
        report.records += 1
        if progress is not None:
            progress(report.records)
        if not row.problem:
            link = _reproduced(row.text, rulesets, row.raw)
            # the columns are the record's (an export's are read from its text): else it is checked in full
            if link is not None and row.seq == link.seq and row.hash == link.hash and row.prev_hash == link.prev_hash:
                chain.add(link)
                continue
        before = len(report.findings)
        checked = check_record(row, report.records, report.findings)
        if checked is None:
            chain.unreadable()
            continue
        data, link = checked
        chain.add(link)
        if link.prev_hash is None or any(f.code == "bad_reference" for f in report.findings[before:]):
            continue  # never looked up: a record names its ruleset by id and version, never by path
        _replay_one(data, link, rulesets, report)
    chain.finish(expect_head=expect_head, expect_count=expect_count)
    return report


def _replay_one(data: dict[str, Any], link: _Link, rulesets: _Rulesets, report: AuditReport) -> None:
    """Decide one checked record again and report a difference with its cause."""
    seq, methodology, version = link.seq, data["methodology"], data["version"]
    found = rulesets.version(methodology, version)
    if isinstance(found, str):
        report.findings.append(Finding("unknown_ruleset", f"record {seq}: the registry ({rulesets.registry.root}) "
                                       f"has no {methodology} {version}: {found}",
                                       seq=seq, details={"methodology": methodology, "version": version,
                                        "ruleset_sha256": data["ruleset_sha256"]}))
        return
    if _ruleset_problem(data, link.seq, found, rulesets, report):
        return
    try:
        resolution = Resolution.model_validate(data["resolution"])
    except ValidationError as exc:
        report.findings.append(Finding("replay_failed", f"record {seq}: its resolution is not valid: "
                                       f"{exc.errors()[0]['msg']}", seq=seq))
        return
    engine = data["engine_version"]
    try:
        replayed = evaluate(found, data["input"], resolution=resolution).to_json()
    except AssessmentError as exc:
        problem = f"the recorded input is not valid for {version}: {exc.diagnostics[0].message}"
        if not link.intact:  # its content does not match its hash: edited after it was written
            report.findings.append(Finding("altered", f"record {seq}: {problem}: the record was altered after it "
                                           "was written (its content does not match its hash)", seq=seq))
        elif engine == __version__ or not _engine_version_ok(engine):  # no engine records an invalid input
            which = f"under the same engine ({__version__}) and ruleset" if engine == __version__ else \
                f"its engine_version {engine[:40]!r} is no engine's version, and under this ruleset"
            report.findings.append(Finding("altered", f"record {seq}: {problem}: {which} ({methodology} {version}) "
                                           "it would not have been recorded (an invalid input is never recorded): "
                                           "the record was altered and its hashes recomputed", seq=seq))
        else:
            report.findings.append(Finding("replay_failed", f"record {seq}: {problem} (engine {engine[:40]} "
                                           f"decided it, {__version__} replays it)", seq=seq))
        return
    recorded = data["decision"]
    if _same(replayed, recorded) or canonical_bytes(replayed) == canonical_bytes(recorded):
        return
    if not link.intact:
        kind, why = "altered", "the record was altered after it was written (its content does not match its hash)"
    elif engine != __version__ and _engine_version_ok(engine):
        kind, why = "engine_changed", f"the engine changed ({engine[:40]} decided it, {__version__} replays it)"
    elif engine != __version__:
        kind, why = "altered", (f"its engine_version {engine[:40]!r} is no engine's version, and this engine "
                                f"({__version__}) under the same ruleset ({methodology} {version}) gives another "
                                "decision: the record was altered and its hashes recomputed")
    else:
        kind, why = "altered", (f"under the same engine ({__version__}) and ruleset ({methodology} {version}), its "
                                "own input gives another decision: the record was altered and its hashes "
                                "recomputed")
    report.findings.append(Finding(kind, f"record {seq}: replay gives a different decision: {why}",
                                   seq=seq, details=_differences(recorded, replayed)))


def _ruleset_problem(data: dict[str, Any], seq: int, found: Ruleset, rulesets: _Rulesets,
                     report: AuditReport) -> bool:
    """Whether the registry's version is not the one the record names (reported with its cause).

    The registry's lock tells which of two hashes of one version is the published one: when the
    registry's file still hashes to its locked hash and the record names another, the record was
    decided under rules never published (``unpublished_ruleset``); when the file no longer hashes to its
    locked hash, or the registry has no lock entry for the version, the file is the one that changed
    (``ruleset_changed``). A record that names the registry's hash, which its lock does not record, was
    decided under that same edit (``unpublished_ruleset``)."""
    methodology, version, recorded = data["methodology"], data["version"], data["ruleset_sha256"]
    locked = rulesets.locked(methodology, version)
    lock_hash = locked if locked is not None and _HEX.fullmatch(locked) else None
    # the lock cannot be used: its first problem, said instead of a hash
    lock_text = "" if locked is None else f"{lock_hash[:16]}…" if lock_hash else f"none it can use ({locked[:120]})"
    details = {"methodology": methodology, "version": version, "recorded": recorded, "registry": found.sha256,
               "locked": locked}
    if found.sha256 != recorded:
        if lock_hash == found.sha256:
            report.findings.append(Finding(
                "unpublished_ruleset", f"record {seq}: it names {methodology} {version} hashed {recorded[:16]}…, "
                f"but {version} as published hashes to {found.sha256[:16]}… (the registry's file, as its lock "
                f"records it): the decision was made under unpublished rules (an edit of the published version), "
                f"not under the published {version}", seq=seq, details=details))
        else:
            lock = "" if locked is None else f"; the registry's lock records {version} as published with {lock_text}"
            report.findings.append(Finding(
                "ruleset_changed", f"record {seq}: {methodology} {version} in the registry now hashes to "
                f"{found.sha256[:16]}…, not {recorded[:16]}… as recorded: its file was edited without a new "
                f"version{lock}", seq=seq, details=details))
        return True
    if locked is not None and locked != found.sha256:
        report.findings.append(Finding(
            "unpublished_ruleset", f"record {seq}: it was decided under {methodology} {version} hashed "
            f"{found.sha256[:16]}… (as the registry's file has it), but the registry's lock records {version} as "
            f"published with {lock_text}: the decision was made under an edit of a published version, not the "
            "published rules",
            seq=seq, details=details))
        return True
    return False


def replay_under(rows: Iterable[StoredRecord], ruleset: Ruleset, *,
                 progress: Progress | None = None) -> tuple[AuditReport, list[dict[str, Any]]]:
    """What-if: decide every recorded input under another version; list the decisions that change.

    Every row is first checked as ``verify`` checks it, in the same pass (each record on its own,
    then the order and the chain): the report holds verify's findings, so a what-if over a log
    that was cut, reordered or altered says so. Every readable record is still decided again.
    """
    report = AuditReport()
    chain = _Chain(report)
    changes: list[dict[str, Any]] = []
    for row in rows:
        report.records += 1
        if progress is not None:
            progress(report.records)
        checked = check_record(row, report.records, report.findings)
        if checked is None:
            chain.unreadable()
            continue
        chain.add(checked[1])
        record = _parse(row) if checked[1].prev_hash is not None else None
        change = None if record is None else _what_if(record, ruleset)
        if change is not None:
            changes.append(change)
    chain.finish()
    return report, changes


def _what_if(record: DecisionRecord, ruleset: Ruleset) -> dict[str, Any] | None:
    """How a record's decision changes when its input is decided under ``ruleset`` (None: it does not)."""
    projected, ignored = project(record.input, ruleset.plan.inputs)
    try:
        decision = evaluate(ruleset, projected, resolution=Resolution(
            method="pinned", reason=f"what-if replay under {ruleset.version}")).to_json()
    except AssessmentError as exc:
        return {"seq": record.seq, IMPLIED.key: _subject(record.decision),
                "recorded": _brief(record.decision), "under": None,
                "problem": exc.diagnostics[0].message, "ignored": ignored}
    if _outcome(decision) == _outcome(record.decision):
        return None
    return {"seq": record.seq, IMPLIED.key: _subject(record.decision),
            "recorded": _brief(record.decision), "under": _brief(decision), "ignored": ignored,
            "criteria": _differences(record.decision, decision).get("criteria", {})}


def _subject(decision: dict[str, Any]) -> Any:
    """A recorded decision's subject id, under the implied subject's key or a declared subject's."""
    return decision[IMPLIED.key] if IMPLIED.key in decision else decision.get(DECLARED_KEY)


def _outcome(decision: dict[str, Any]) -> tuple[Any, ...]:
    return (decision.get("label"), decision.get("valid_from"), decision.get("valid_until"))


def _brief(decision: dict[str, Any]) -> dict[str, Any]:
    return {"version": decision.get("version"), "label": decision.get("label"),
            "valid_from": decision.get("valid_from"), "valid_until": decision.get("valid_until")}
