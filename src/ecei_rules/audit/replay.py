"""Verify a decision log's chain, replay it byte for byte, or replay it under another version.

``verify`` needs nothing but the log: every record's content must match its hash, every
record must name the hash of the one before it, and the positions must run 1, 2, 3, ...
A log cut exactly at a record boundary is still such a log; only what was kept outside it
(the head hash of the last acknowledged record, the record count) shows the cut, so
``verify`` checks them when given (:func:`tail_problems`).
``replay`` re-reads the exact ruleset version each record names (found by content hash),
re-evaluates the recorded input and compares the canonical bytes of the decisions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

try:  # parses a record's input three times faster than the standard library
    import orjson as _orjson
except ImportError:  # pragma: no cover - a platform without its wheel
    _orjson = None  # type: ignore[assignment]

from .._canonical import canonical_bytes, to_json
from ..compare.bump import project
from ..engine.decision import Resolution
from ..engine.evaluate import decision_text, evaluate
from ..errors import AssessmentError, ResolutionError, RulesetError
from ..registry import Registry
from ..ruleset.load import Ruleset
from .log import StoredRecord
from .record import GENESIS, DecisionRecord, input_hash

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Finding:
    """One problem in a log, at a record (its seq; a negative number is a JSONL line)."""

    seq: int
    kind: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON."""
        return {"seq": self.seq, "kind": self.kind, "message": self.message, "details": to_json(self.details)}


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
        return sorted(self.findings, key=lambda f: (abs(f.seq), f.kind))

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
    digest, fmt = record.hash, record.format
    needle = f'"format":{fmt},"hash":"{digest}",'
    if text.count(needle) != 1:
        return None
    body = text.replace(needle, f'"format":{fmt},', 1).encode("utf-8")
    return hashlib.sha256(body).hexdigest() == digest


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
            report.findings.append(Finding(row.seq, "corrupt", f"position {position}: not a decision record "
                                           "(unreadable or incomplete)", {"text": row.text[:200]}))
            continue
        yield row, record


def tail_problems(total: int, last_seq: int, last_hash: str, hashes: dict[int, str] | None = None, *,
                  head: str | None = None, count: int | None = None) -> list[tuple[int, str]]:
    """What is wrong with a log's end against what was kept outside it: the hash of the last
    acknowledged record (``head``) and the number of records (``count``). ``total`` is the
    number of rows, ``last_seq`` and ``last_hash`` the last record's; with ``hashes`` (every
    record's hash by seq) an expected head found earlier in the log is named. Each problem
    comes with the seq of the first record it concerns; an empty list means the log ends
    where it should."""
    problems: list[tuple[int, str]] = []
    if count is not None and total != count:
        what = f": {count - total} record(s) were removed from its tail" if total < count else \
            f": {total - count} record(s) more than were acknowledged"
        problems.append((min(total, count) + 1, f"the log holds {total} record(s), {count} expected{what}"))
    if head is not None and last_hash != head:
        at = next((seq for seq, digest in (hashes or {}).items() if digest == head), None)
        if at is not None:
            problems.append((at + 1, f"the log goes on after the expected head (record {at}): it ends at record "
                                     f"{last_seq}, {last_seq - at} record(s) later"))
        else:
            problems.append((last_seq + 1, f"the log ends at record {last_seq} hashed {last_hash[:16]}…, not at the "
                                           f"expected head {head[:16]}…" + ("" if hashes is None else
                                           ", which no record in it has: its tail was removed or rewritten")))
    return problems


def verify(rows: Iterable[StoredRecord], *, progress: Progress | None = None, expect_head: str | None = None,
           expect_count: int | None = None) -> AuditReport:
    """Check content hashes, the chain and the order of a log's records; with ``expect_head`` or
    ``expect_count`` (kept outside the log), also that the log ends there (a cut at a record
    boundary shows only this way). The report's ``head`` is the last record's hash."""
    report = AuditReport()
    hashes: dict[int, str] = {}
    prevs: dict[int, str] = {}
    order: list[int] = []
    for row, record in records(rows, report, progress):
        seq = record.seq
        if seq in hashes:
            report.findings.append(Finding(seq, "duplicate", f"record {seq} appears twice"))
            continue
        order.append(seq)
        hashes[seq] = record.hash
        prevs[seq] = record.prev_hash
        fast = _stored_hash_ok(row.text, record)
        intact = fast if fast is not None else record.compute_hash() == record.hash
        if not intact or (row.hash and row.hash != record.hash):
            computed = record.compute_hash()
            details: dict[str, Any] = {"stored_hash": record.hash, "computed_hash": computed}
            input_edited = input_hash(record.input) != record.input_sha256
            details["input_edited"] = input_edited
            what = " (its input no longer matches input_sha256)" if input_edited else ""
            report.findings.append(Finding(seq, "hash_mismatch", f"record {seq} was altered after it was written: "
                                           f"its content does not match its hash{what}", details))
        if row.seq > 0 and row.seq != seq:
            report.findings.append(Finding(seq, "misplaced", f"record {seq} is stored at position {row.seq}"))
    # order, gaps and the chain, once every record is known
    present = set(order)
    last = max(present) if present else 0
    for missing in sorted(set(range(1, last + 1)) - present):
        report.findings.append(Finding(missing, "missing", f"record {missing} is missing (removed from the log)"))
    for position, seq in enumerate(order, 1):
        if seq != position and present == set(range(1, last + 1)):
            report.findings.append(Finding(seq, "reordered", f"record {seq} stands at position {position}: "
                                           "records were reordered"))
    before, expected = 0, GENESIS
    for seq in sorted(present):
        if prevs[seq] != expected:
            gap = f" (record {seq - 1} is missing)" if before != seq - 1 else ""
            report.findings.append(Finding(seq, "chain_break", f"record {seq} does not follow record {before}{gap}: "
                                           "its prev_hash is not that record's hash",
                                           {"prev_hash": prevs[seq], "expected": expected}))
        before, expected = seq, hashes[seq]
    report.head = hashes[last] if present else GENESIS
    for seq, message in tail_problems(report.records, last, report.head, hashes, head=expect_head,
                                      count=expect_count):
        report.findings.append(Finding(seq, "unexpected_end", message))
    return report


class _Rulesets:
    """Finds the exact ruleset version a record names, by content hash."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.by_hash: dict[str, Ruleset] = {}
        self.scanned: set[str] = set()
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

    def find(self, methodology: str, version: str, sha256: str) -> tuple[Ruleset | None, str]:
        if sha256 in self.by_hash:
            return self.by_hash[sha256], ""
        note = ""
        try:
            ruleset = self.registry.load(methodology, version)
            self.by_hash.setdefault(ruleset.sha256, ruleset)
            if ruleset.sha256 == sha256:
                return ruleset, ""
            note = (f"{methodology} {version} now hashes to {ruleset.sha256[:16]}…, not {sha256[:16]}…: "
                    "its file was edited without a new version")
        except (ResolutionError, RulesetError) as exc:
            note = str(exc).splitlines()[0]
        if methodology not in self.scanned:
            self.scanned.add(methodology)
            try:
                for other in self.registry.versions(methodology):
                    r = self.registry.load(methodology, other)
                    self.by_hash.setdefault(r.sha256, r)
            except (ResolutionError, RulesetError):
                pass
        return self.by_hash.get(sha256), note


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
    library reads it.
    """
    if typed and _orjson is not None:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass
    return _STRICT.decode(text)


def reproduced(text: str, rulesets: _Rulesets) -> bool:
    """True when a stored record is well formed and deciding its input again, under the exact
    version it names, gives its decision byte for byte.

    The record's own layout is used to find its parts without parsing the decision: the
    recorded decision text is compared with the canonical text of the new decision, written
    directly (:func:`ecei_rules.engine.evaluate.decision_text`). False means "not shown
    here" (another layout, a string with escapes outside the input and decision, an unknown
    version, any difference): the caller then replays the record the slow way, which says
    what differs.
    """
    head = _HEAD.match(text)
    if head is None:
        return False
    start = head.end()
    # no string in the tail holds a quote, so the last '","input_sha256":"' begins the tail
    tail_at = text.rfind(',"input_sha256":"', start)
    tail = _TAIL.fullmatch(text, tail_at) if tail_at > 0 else None
    if tail is None:
        return False
    # searched backwards over the input only; wherever it is found, the decision is accepted only
    # when the text is exactly these parts, each a complete JSON value (so it parses to them)
    stop = text.rfind(',"engine_version":"', start, tail_at)
    middle = _MIDDLE.match(text, stop) if stop > 0 else None
    if middle is None:
        return False
    try:
        resolution = rulesets.resolution(tail.group(5), tail.group(6))
        ruleset, _ = rulesets.find(tail.group(2), tail.group(9), tail.group(7))
        if ruleset is None:
            return False
        data = _input(text[middle.end():tail_at], ruleset.plan.validator.typed)
        expected = decision_text(ruleset, data, resolution=resolution)
    except (ValueError, ValidationError, AssessmentError, RecursionError):
        return False
    return start + len(expected) == stop and text.startswith(expected, start)


def replay(rows: Iterable[StoredRecord], registry: Registry, *, progress: Progress | None = None) -> AuditReport:
    """Re-evaluate every record under the exact version it names and compare byte for byte.

    A record whose decision is reproduced exactly (:func:`reproduced`) needs nothing more;
    any other is parsed in full and compared member by member, to report what differs.
    """
    report = AuditReport()
    rulesets = _Rulesets(registry)

    def not_reproduced() -> Iterator[StoredRecord]:
        for row in rows:
            if reproduced(row.text, rulesets):
                report.records += 1
                if progress is not None:
                    progress(report.records)
                continue
            yield row

    for _row, record in records(not_reproduced(), report, progress):
        seq = record.seq
        ruleset, note = rulesets.find(record.methodology, record.version, record.ruleset_sha256)
        if ruleset is None:
            report.findings.append(Finding(seq, "unknown_ruleset", f"record {seq}: no ruleset hashes to "
                                           f"{record.ruleset_sha256[:16]}… ({note})",
                                           {"methodology": record.methodology, "version": record.version,
                                            "ruleset_sha256": record.ruleset_sha256}))
            continue
        try:
            resolution = Resolution.model_validate(record.resolution)
        except ValidationError as exc:
            report.findings.append(Finding(seq, "replay_failed", f"record {seq}: its resolution is not valid: "
                                           f"{exc.errors()[0]['msg']}"))
            continue
        try:
            replayed = evaluate(ruleset, record.input, resolution=resolution).to_json()
        except AssessmentError as exc:
            report.findings.append(Finding(seq, "replay_failed", f"record {seq}: the recorded input is not valid "
                                           f"for {record.version}: {exc.diagnostics[0].message}"))
            continue
        if not _same(replayed, record.decision) and canonical_bytes(replayed) != canonical_bytes(record.decision):
            intact = record.compute_hash() == record.hash
            kind = "replay_differs" if intact else "decision_differs"
            why = (f"the engine ({record.engine_version} then) decides differently now" if intact
                   else "the record was altered (see verify)")
            report.findings.append(Finding(seq, kind, f"record {seq}: replay gives a different decision: {why}",
                                           _differences(record.decision, replayed)))
    return report


def replay_under(rows: Iterable[StoredRecord], ruleset: Ruleset, *,
                 progress: Progress | None = None) -> tuple[AuditReport, list[dict[str, Any]]]:
    """What-if: decide every recorded input under another version; list the decisions that change."""
    report = AuditReport()
    changes: list[dict[str, Any]] = []
    for _row, record in records(rows, report, progress):
        projected, ignored = project(record.input, ruleset.plan.inputs)
        try:
            decision = evaluate(ruleset, projected, resolution=Resolution(
                method="pinned", reason=f"what-if replay under {ruleset.version}")).to_json()
        except AssessmentError as exc:
            changes.append({"seq": record.seq, "organisation": record.decision.get("organisation"),
                            "recorded": _brief(record.decision), "under": None,
                            "problem": exc.diagnostics[0].message, "ignored": ignored})
            continue
        if _outcome(decision) != _outcome(record.decision):
            changes.append({"seq": record.seq, "organisation": record.decision.get("organisation"),
                            "recorded": _brief(record.decision), "under": _brief(decision), "ignored": ignored,
                            "criteria": _differences(record.decision, decision).get("criteria", {})})
    return report, changes


def _outcome(decision: dict[str, Any]) -> tuple[Any, ...]:
    return (decision.get("label"), decision.get("valid_from"), decision.get("valid_until"))


def _brief(decision: dict[str, Any]) -> dict[str, Any]:
    return {"version": decision.get("version"), "label": decision.get("label"),
            "valid_from": decision.get("valid_from"), "valid_until": decision.get("valid_until")}
