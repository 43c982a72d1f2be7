"""Decision records: one decision with everything an auditor needs to reproduce it.

A record names the methodology, version and ruleset content hash, the engine version, the
input (as canonical JSON, with its hash), how the version was resolved, the full decision
with its trace, the decision time (given by the caller, never read from a clock here), and
the hash of the previous record. Its own hash is the SHA-256 of its RFC 8785 canonical JSON
without the ``hash`` field, so any edit to any field shows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ecei_rules.core.canonical import canonical_bytes, canonical_json, sha256_hex, to_json
from ecei_rules.core.version import __version__
from ecei_rules.engine.decision import Decision

GENESIS = "0" * 64
RECORD_FORMAT = 1
#: A methodology id as a record names it: never a path (the registry the auditor chose resolves it).
METHODOLOGY_ID = r"^[a-z][a-z0-9-]*$"
#: A SHA-256 as a record writes it.
SHA256_HEX = r"^[0-9a-f]{64}$"


class DecisionRecord(BaseModel):
    """One recorded decision, hash-chained to the record before it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = Field(default=RECORD_FORMAT, description="The record format version.")
    seq: int = Field(ge=1, description="Position in the log, from 1.")
    record_id: str = Field(description="A stable id: '<methodology>@<version>#<seq>'.")
    methodology: str = Field(pattern=METHODOLOGY_ID, description="The methodology id (never a path).")
    version: str = Field(description="The ruleset version applied.")
    ruleset_sha256: str = Field(description="The content hash of the ruleset version applied.")
    engine_version: str = Field(description="The ecei-rules version that decided.")
    input: Any = Field(description="The assessment as given (JSON values).")
    input_sha256: str = Field(description="SHA-256 of the input's canonical JSON.")
    resolution: dict[str, str] = Field(description="How the version was chosen (method, reason).")
    decision: dict[str, Any] = Field(description="The full decision with its trace (JSON values).")
    decided_at: str = Field(description="When the decision was made (ISO 8601, given by the caller).")
    prev_hash: str = Field(description="The hash of the previous record (64 zeros for the first).")
    hash: str = Field(description="SHA-256 of this record's canonical JSON without 'hash'.")

    def body(self) -> dict[str, Any]:
        """The record as JSON values, without ``hash`` (what the hash covers)."""
        data = self.model_dump(mode="python")
        data.pop("hash")
        return data

    def compute_hash(self) -> str:
        """The hash this record's content should have."""
        return sha256_hex(canonical_bytes(self.body()))

    def canonical(self) -> bytes:
        """RFC 8785 canonical JSON of the whole record (one line of a JSONL export)."""
        return canonical_bytes(self.model_dump(mode="python"))


def valid_time(text: str) -> bool:
    """Whether a text is an ISO 8601 date and time (as ``decided_at`` must be)."""
    if "T" not in text and " " not in text:
        return False
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def input_hash(data: Any) -> str:
    """SHA-256 of an input's canonical JSON."""
    return sha256_hex(canonical_bytes(data))


def make_record(decision: Decision, input_data: Any, *, seq: int, prev_hash: str,
                decided_at: dt.datetime | str) -> DecisionRecord:
    """Build the record of a decision at position ``seq`` after the record hashed ``prev_hash``."""
    return record_and_text(decision, input_data, seq=seq, prev_hash=prev_hash, decided_at=decided_at)[0]


def record_and_text(decision: Decision, input_data: Any, *, seq: int, prev_hash: str,
                    decided_at: dt.datetime | str) -> tuple[DecisionRecord, str]:
    """The record of a decision and its canonical JSON text (what a log stores).

    The text is assembled from the canonical texts of the input and the decision, so the
    decision is written once; it equals ``record.canonical()`` (the tests check it).
    """
    if type(seq) is not int or seq < 1:
        raise ValueError(f"a record's seq is a whole number from 1, not {seq!r}")
    at = decided_at if isinstance(decided_at, str) else decided_at.isoformat()
    if not valid_time(at):
        raise ValueError(f"a record's decided_at is an ISO 8601 date and time, not {at!r}")
    data = to_json(input_data)
    input_text = canonical_json(data).decode("utf-8")
    small: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "seq": seq,
        "record_id": f"{decision.methodology}@{decision.version}#{seq}",
        "methodology": decision.methodology,
        "version": decision.version,
        "ruleset_sha256": decision.ruleset_sha256,
        "engine_version": __version__,
        "input_sha256": sha256_hex(input_text.encode("utf-8")),
        "resolution": {"method": decision.resolution.method, "reason": decision.resolution.reason},
        "decided_at": at,
        "prev_hash": prev_hash,
    }
    texts = {"decision": decision.canonical_text(), "input": input_text}
    digest = sha256_hex(assemble(small, texts).encode("utf-8"))
    small["hash"] = digest
    record = DecisionRecord.model_construct(**small, input=data, decision=decision.to_json())
    return record, assemble(small, texts)


def assemble(values: dict[str, Any], texts: dict[str, str]) -> str:
    """Canonical JSON text of an object with ASCII keys: ``values`` written here, ``texts``
    members already canonical JSON text."""
    members = []
    for key in sorted([*values, *texts]):
        text = texts[key] if key in texts else canonical_json([values[key]])[1:-1].decode("utf-8")
        members.append(f'"{key}":{text}')
    return "{" + ",".join(members) + "}"


def parse_record(text: str | bytes) -> DecisionRecord:
    """A record from its JSON text (raises ValueError when it is not a record)."""
    data = json.loads(text)
    return DecisionRecord.model_validate(data)
