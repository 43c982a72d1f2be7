"""``ecei-rules keygen``, ``checkpoint``, ``receipt`` and ``check-receipt``; the helpers behind
``record --key`` and ``verify --key/--since``.

Exit codes: 0 success; 1 a finding (a receipt that does not check, no checkpoint to give), with a
one-line cause; 2 usage errors and unreadable files (a missing or wrong key file, a file that is
not JSON or not a receipt or checkpoint). No bad file ends in a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ecei_rules.cli.common import (
    Format,
    FormatOption,
    LogOption,
    check_stdout,
    console,
    fail,
    finding,
    one_log,
    write_failed,
)
from ecei_rules.core.files import replace_atomically
from ecei_rules.core.terminal import show_path

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from ecei_rules.audit.log import DecisionLog
    from ecei_rules.audit.replay import AuditReport
    from ecei_rules.errors import Finding


def _public_key(path: Path) -> Ed25519PublicKey:
    from ecei_rules.audit.checkpoint import KeyFileError, load_public_key

    try:
        return load_public_key(path)
    except KeyFileError as exc:
        fail(str(exc))


#: The most a checkpoint or a receipt file may hold (a receipt is one record, its proof and a checkpoint).
MAX_PROOF_BYTES = 64 * 1024 * 1024


def _json_file(path: Path, what: str) -> Any:
    """A checkpoint's or a receipt's JSON: a regular file (a FIFO or a device is refused, never read) of at most
    `MAX_PROOF_BYTES`, as UTF-8 text."""
    from ecei_rules.core.files import FileReadError, read_limited

    try:
        text = read_limited(path, MAX_PROOF_BYTES, what).decode("utf-8")
    except FileReadError as exc:
        fail(f"{path}: {exc.message}")
    except UnicodeDecodeError as exc:
        fail(f"{path}: cannot read the {what} ({exc})")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        fail(f"{path}: the {what} is not JSON ({str(exc)[:120]})")


def _write(document: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        print(text, end="")
        return
    try:
        replace_atomically(out, lambda handle: handle.write(text))  # a receipt written over is never half lost
    except OSError as exc:
        write_failed(f"cannot write {show_path(out)}", exc)


def _state(log: Path) -> Any:
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.proofs import read_state

    if not log.exists():
        fail(f"no such log: {log}")
    try:
        return read_state(log)
    except LogError as exc:
        fail(str(exc))


# --- record --key -----------------------------------------------------------------------------


def attach_key(store: DecisionLog, key: Path | None) -> None:
    """For ``record --key``: sign a checkpoint in every append's transaction. Without a key, a log
    bound to one is refused (its records would have no checkpoint). Exits 2 on problems."""
    from ecei_rules.audit.checkpoint import KeyFileError, Signer
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.proofs import bound_key_id, enable_checkpoints

    try:
        if key is None:
            bound = bound_key_id(store.path)
            if bound is not None:
                fail(f"{store.path} is bound to signing key {bound[:16]}…: record with --key PRIVATE.pem, so "
                       "each append is signed (records without a checkpoint show in verify --key)")
            return
        enable_checkpoints(store, Signer.from_file(key))
    except (KeyFileError, LogError) as exc:
        fail(str(exc))


# --- verify --key / --since -------------------------------------------------------------------


class ProofChecks:
    """What ``verify --key/--since`` checks besides the chain, loaded before the chain is read."""

    def __init__(self, target: Path, key: Path | None, since: Path | None) -> None:
        from ecei_rules.audit.checkpoint import Checkpoint, CheckpointError

        if target.suffix == ".jsonl" and key is not None:
            fail("--key checks the checkpoints stored in a SQLite log; a JSONL export holds none "
                   "(verify the export with --since, or the log itself with --key)")
        self.public_key = _public_key(key) if key is not None else None
        self.kept: Checkpoint | None = None
        if since is not None:
            try:
                self.kept = Checkpoint.from_json(_json_file(since, "checkpoint"))
            except CheckpointError as exc:
                fail(f"{since}: not a checkpoint ({exc})")
        self.target = target
        self.summary: list[str] = []

    def run(self, report: AuditReport) -> None:
        """Add the findings to a verify report; note what held in ``summary``."""
        from ecei_rules.audit.checkpoint import key_id
        from ecei_rules.audit.proofs import check_checkpoints, check_since, latest_checkpoint

        state = _state(self.target)
        findings: list[Finding] = []
        if self.public_key is not None:
            found = check_checkpoints(state, self.public_key)
            findings.extend(found)
            if not found:
                latest = latest_checkpoint(state)
                self.summary.append(f"checkpoints: {len(state.checkpoints)}, each signed by key "
                                    f"{key_id(self.public_key)[:16]}… and equal to the log's Merkle root at its size"
                                    + (f"; the latest covers all {latest.size} record(s) ({latest.time})"
                                       if latest else ""))
        if self.kept is not None:
            found = check_since(state, self.kept, self.public_key)
            findings.extend(found)
            if not found:
                self.summary.append(f"since: the log begins with the {self.kept.size} record(s) of the checkpoint "
                                    f"kept from {self.kept.time} and grew to {len(state.hashes)}")
        report.findings.extend(findings)

    def print_summary(self, format: Format) -> None:
        if format is Format.text:
            for line in self.summary:
                console().print(line, highlight=False, soft_wrap=True)


# --- commands ---------------------------------------------------------------------------------


def keygen(
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="The directory to write private.pem (mode 0600) "
                                      "and public.pem to (created if absent).")],
) -> None:
    """Create an Ed25519 key pair for signing checkpoints. Never overwrites a key (exit 2 if one exists)."""
    check_stdout()
    from ecei_rules.audit.checkpoint import KeyFileError, write_keypair

    try:
        signer = write_keypair(out)
    except KeyFileError as exc:
        fail(str(exc))
    shown = console()
    shown.print(f"wrote {out / 'private.pem'} (keep it secret) and {out / 'public.pem'} (give it to auditors)",
                highlight=False, soft_wrap=True)
    shown.print(f"key id: {signer.key_id}", highlight=False, soft_wrap=True)


def checkpoint(
    log: Annotated[Path | None, typer.Argument(metavar="LOG", show_default=False,
                                               help="A decision log (SQLite) bound to a key.")] = None,
    out: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write the checkpoint here (default: "
                                             "print it).")]
    = None,
    log_option: LogOption = None,
) -> None:
    """Print the log's latest signed checkpoint (size, Merkle root, time, key id, signature), for an auditor
    to keep: 'verify LOG --since' it later shows whether the log only grew. Exit 1 if there is none."""
    from ecei_rules.audit.checkpoint import CheckpointError
    from ecei_rules.audit.proofs import latest_checkpoint

    log = one_log(log, log_option)
    state = _state(log)
    try:
        latest = latest_checkpoint(state)
    except CheckpointError as exc:
        finding(f"the log's latest checkpoint is not well formed ({exc})")
    if latest is None:
        finding(f"{log} holds no checkpoint (record with --key PRIVATE.pem to sign one with each append)")
    _write(latest.to_json(), out)
    if out is not None:
        console().print(f"checkpoint of {latest.size} record(s) ({latest.time}) written to {out}",
                         highlight=False, soft_wrap=True)


def receipt(
    record: Annotated[int, typer.Option("--record", min=1, metavar="SEQ", help="The record's seq.")],
    log: Annotated[Path | None, typer.Argument(metavar="LOG", show_default=False,
                                               help="A decision log (SQLite) bound to a key.")] = None,
    out: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write the receipt here (default: "
                                             "print it).")]
    = None,
    log_option: LogOption = None,
) -> None:
    """The receipt of one record: its stored text, its leaf index, and its inclusion proof against the latest
    signed checkpoint. 'check-receipt' checks it offline with the public key alone. Exit 1 if none can be made."""
    from ecei_rules.audit.log import LogError
    from ecei_rules.audit.proofs import ReceiptError, make_receipt

    log = one_log(log, log_option)
    if not log.exists():
        fail(f"no such log: {log}")
    try:
        receipt = make_receipt(log, record)
    except LogError as exc:
        fail(str(exc))
    except ReceiptError as exc:
        finding(str(exc))
    _write(receipt, out)
    if out is not None:
        console().print(f"receipt of record {record} against the checkpoint of {receipt['tree_size']} record(s) "
                         f"written to {out}", highlight=False, soft_wrap=True)


def check_receipt(
    receipt: Annotated[Path, typer.Argument(metavar="RECEIPT", help="A receipt (JSON), as 'ecei-rules receipt' "
                                            "writes it.")],
    key: Annotated[Path, typer.Option("--key", metavar="PUBLIC.pem", help="The log keeper's public key "
                                      "(SubjectPublicKeyInfo PEM).")],
    format: FormatOption = Format.text,
) -> None:
    """Check a receipt offline, without the log: the record's hash recomputed from its text, its inclusion
    proof against the checkpoint's root, and the checkpoint's signature by the key.
    Exit 0 when it holds, 1 with the cause when not, 2 for an unreadable receipt or key."""
    from ecei_rules.audit.proofs import Receipt, ReceiptError, check_receipt

    public_key = _public_key(key)
    try:
        parsed = Receipt.from_json(_json_file(receipt, "receipt"))
    except ReceiptError as exc:
        fail(f"{receipt}: not a receipt ({exc})")
    cause = check_receipt(parsed, public_key)
    if format is Format.json:
        print(json.dumps({"receipt": str(receipt), "ok": cause is None, "cause": cause,
                          "tree_size": parsed.tree_size, "leaf_index": parsed.leaf_index,
                          "checkpoint_time": parsed.checkpoint.time, "key_id": parsed.checkpoint.key_id}, indent=2))
        raise typer.Exit(0 if cause is None else 1)
    if cause is not None:
        finding(f"{receipt}: {cause}")
    console().print(f"[green]ok[/green] {receipt}: record {parsed.leaf_index + 1} is in the log as of the "
                     f"checkpoint of {parsed.tree_size} record(s) signed at {parsed.checkpoint.time} by key "
                     f"{parsed.checkpoint.key_id[:16]}…", highlight=False, soft_wrap=True)



#: The commands of this module, by name.
COMMANDS = (("keygen", keygen), ("checkpoint", checkpoint), ("receipt", receipt), ("check-receipt", check_receipt))
