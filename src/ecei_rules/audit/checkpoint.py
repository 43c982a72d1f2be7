"""Signed checkpoints: a log's size and Merkle root, signed with Ed25519.

A checkpoint is the JSON object ``{format, size, root, time, key_id, signature}``: ``root`` is
the RFC 9162 Merkle tree hash (hex) of the log's first ``size`` records (see
:mod:`ecei_rules.audit.merkle`), ``size`` a whole number up to 2**53 - 1 (:data:`MAX_SIZE`: RFC 8785
writes no larger integer, so a larger size has no signed message and is not a checkpoint), ``time``
an ISO 8601 date and time given by the caller (never read from a clock here), ``key_id`` the hex
SHA-256 of the signer's raw 32-byte public key, and ``signature`` the base64 Ed25519 signature of::

    b"ecei-rules checkpoint v1\\n" + RFC 8785 canonical JSON of {format, key_id, root, size, time}

The prefix keeps a checkpoint signature from meaning anything else signed by the same key.

Keys are standard PEM files: the private key as PKCS#8 (unencrypted), the public key as
SubjectPublicKeyInfo. A file that cannot be read, is not PEM or holds another kind of key
raises :class:`KeyFileError`; a document that is not a well-formed checkpoint raises
:class:`CheckpointError`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ecei_rules.core.canonical import canonical_bytes
from ecei_rules.core.files import storage_refused
from ecei_rules.errors import EceiRulesError

CHECKPOINT_FORMAT = 1
DOMAIN = b"ecei-rules checkpoint v1\n"
#: The largest size a checkpoint signs (and index a receipt names): RFC 8785 writes integers up to 2**53 - 1
#: only, so a larger one has no signed message.
MAX_SIZE = 2**53 - 1
_HEX64 = re.compile("[0-9a-f]{64}")
_FIELDS = ("format", "key_id", "root", "signature", "size", "time")


class KeyFileError(EceiRulesError):
    """A key file cannot be read, or does not hold an Ed25519 key of the kind expected."""


class CheckpointError(EceiRulesError, ValueError):
    """A document is not a well-formed checkpoint."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """The hex SHA-256 of a public key's raw 32 bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _check_time(time: Any) -> str:
    if not isinstance(time, str):
        raise CheckpointError(f"a checkpoint's time is an ISO 8601 string, not {type(time).__name__}")
    try:
        dt.datetime.fromisoformat(time)
    except ValueError:
        raise CheckpointError(f"a checkpoint's time is an ISO 8601 date and time, not {time[:40]!r}") from None
    return time


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the first ``size`` records of a log have Merkle root ``root``."""

    size: int
    root: str
    time: str
    key_id: str
    signature: str
    format: int = CHECKPOINT_FORMAT

    def signed(self) -> dict[str, Any]:
        """The fields the signature covers."""
        return {"format": self.format, "key_id": self.key_id, "root": self.root, "size": self.size,
                "time": self.time}

    def message(self) -> bytes:
        """The bytes signed: the domain prefix and the canonical JSON of the signed fields."""
        return signed_message(self.format, self.size, self.root, self.time, self.key_id)

    def root_bytes(self) -> bytes:
        """The root as 32 bytes."""
        return bytes.fromhex(self.root)

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as a JSON object."""
        return {**self.signed(), "signature": self.signature}

    def text(self) -> str:
        """The checkpoint as canonical JSON text (what the log stores)."""
        return canonical_bytes(self.to_json()).decode("ascii")

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """A checkpoint from JSON values; CheckpointError unless every field is there, well formed."""
        if not isinstance(data, dict):
            raise CheckpointError("a checkpoint is a JSON object")
        missing = [f for f in _FIELDS if f not in data]
        extra = sorted(set(data) - set(_FIELDS))
        if missing or extra:
            raise CheckpointError("a checkpoint has the fields " + ", ".join(_FIELDS) +
                                  (f"; missing: {', '.join(missing)}" if missing else "") +
                                  (f"; unknown: {', '.join(map(str, extra))}" if extra else ""))
        if data["format"] != CHECKPOINT_FORMAT or type(data["format"]) is not int:
            raise CheckpointError(f"unknown checkpoint format {data['format']!r} (this version reads "
                                  f"{CHECKPOINT_FORMAT})")
        size = data["size"]
        if type(size) is not int or not 0 <= size <= MAX_SIZE:
            raise CheckpointError(f"a checkpoint's size is a whole number from 0 to 2**53 - 1, not "
                                  f"{shown_number(size)}")
        for name in ("root", "key_id"):
            if not isinstance(data[name], str) or _HEX64.fullmatch(data[name]) is None:
                raise CheckpointError(f"a checkpoint's {name} is 64 lowercase hexadecimal digits")
        signature = data["signature"]
        if not isinstance(signature, str) or len(_unbase64(signature)) != 64:
            raise CheckpointError("a checkpoint's signature is 64 bytes in base64")
        return cls(size=size, root=data["root"], time=_check_time(data["time"]), key_id=data["key_id"],
                   signature=signature)


def shown_number(value: Any) -> str:
    """A size or an index that is not one, shown in a message (a whole number beyond the bounds by its
    sign or its size: its digits may be more than Python writes)."""
    if type(value) is int:
        return "a negative number" if value < 0 else f"a number of {value.bit_length()} bits (2**53 or more)"
    return repr(value)[:40]


def _unbase64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return b""


def signed_message(format: int, size: int, root: str, time: str, key: str) -> bytes:
    """What a checkpoint's signature covers."""
    return DOMAIN + canonical_bytes({"format": format, "key_id": key, "root": root, "size": size, "time": time})


class Signer:
    """Signs checkpoints with an Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        """A signer with the key of a PKCS#8 PEM file."""
        return cls(load_private_key(path))

    def sign(self, size: int, root: bytes, time: str) -> Checkpoint:
        """The signed checkpoint of a tree of ``size`` leaves with root ``root`` at ``time`` (ISO 8601)."""
        if type(size) is not int or not 0 <= size <= MAX_SIZE or len(root) != 32:
            raise ValueError("a checkpoint needs a whole size (0 to 2**53 - 1) and a 32-byte root")
        root_hex = root.hex()
        message = signed_message(CHECKPOINT_FORMAT, size, root_hex, _check_time(time), self.key_id)
        signature = base64.b64encode(self._key.sign(message)).decode("ascii")
        return Checkpoint(size=size, root=root_hex, time=time, key_id=self.key_id, signature=signature)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    def public_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM."""
        return public_pem(self.public_key)


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    """A public key as SubjectPublicKeyInfo PEM."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def signature_ok(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Whether the checkpoint names this key and its signature verifies with it."""
    if checkpoint.key_id != key_id(public_key):
        return False
    try:
        public_key.verify(_unbase64(checkpoint.signature), checkpoint.message())
    except InvalidSignature:
        return False
    return True


def checkpoint_problem(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> str | None:
    """Why a checkpoint is not vouched for by this key (one line), or None when it is."""
    if checkpoint.key_id != key_id(public_key):
        return (f"the checkpoint names key {checkpoint.key_id[:16]}…, not the given key "
                f"{key_id(public_key)[:16]}…")
    if not signature_ok(checkpoint, public_key):
        return "the checkpoint's signature does not verify with the given key (a field was changed after signing)"
    return None


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key of a PKCS#8 PEM file (unencrypted); KeyFileError otherwise."""
    data = _read(path, "private key")

    def load(pem: bytes) -> object:
        try:
            return serialization.load_pem_private_key(pem, password=None)
        except TypeError:
            raise KeyFileError(f"{path}: the private key is encrypted; give an unencrypted PKCS#8 PEM "
                               "file") from None

    hint = " (it holds a public key: give the private key)" if b"PUBLIC KEY" in data else ""
    key = _pem_key(path, data, "private", hint, load)
    if not isinstance(key, Ed25519PrivateKey):
        raise _not_ed25519(path, key)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key of a SubjectPublicKeyInfo PEM file; KeyFileError otherwise."""
    data = _read(path, "public key")
    if b"PRIVATE KEY" in data:
        raise KeyFileError(f"{path}: holds a private key; give the public key (public.pem)")
    key = _pem_key(path, data, "public", "", serialization.load_pem_public_key)
    if not isinstance(key, Ed25519PublicKey):
        raise _not_ed25519(path, key)
    return key


def _pem_key(path: Path, data: bytes, which: str, hint: str, load: Callable[[bytes], object]) -> object:
    """The ``which`` ("private" or "public") key ``load`` reads from the PEM ``data``; KeyFileError
    naming ``path`` when there is none (``hint`` follows "not a PEM ... key")."""
    try:
        return load(data)
    except ValueError as exc:
        raise KeyFileError(f"{path}: not a PEM {which} key{hint} ({str(exc).splitlines()[0][:120]})") from None
    except UnsupportedAlgorithm as exc:  # a key type this build of cryptography does not know
        raise KeyFileError(f"{path}: not a usable {which} key ({type(exc).__name__})") from None


def _not_ed25519(path: Path, key: object) -> KeyFileError:
    return KeyFileError(f"{path}: an {type(key).__name__.removeprefix('_')} key, not an Ed25519 key")


def write_keypair(directory: Path) -> Signer:
    """A new key pair written to ``directory/private.pem`` (mode 0600) and ``public.pem``; never
    overwrites a file (KeyFileError when either exists)."""
    directory = Path(directory)
    private, public = directory / "private.pem", directory / "public.pem"
    for path in (private, public):
        if path.exists():
            raise KeyFileError(f"{path} exists: keygen never overwrites a key")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyFileError(f"{directory}: cannot create the directory ({exc.strerror or exc})") from None
    signer = Signer.generate()
    written: list[Path] = []
    try:
        for path, data, mode in ((private, signer.private_pem(), 0o600), (public, signer.public_pem(), 0o644)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            written.append(path)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(path, mode)
    except FileExistsError:
        for done in written:
            done.unlink(missing_ok=True)
        raise KeyFileError(f"{path} exists: keygen never overwrites a key") from None
    except OSError as exc:
        for done in written:
            done.unlink(missing_ok=True)
        if storage_refused(exc):  # the storage (full, a limit, failing) says why, not the place named
            raise
        raise KeyFileError(f"{path}: cannot write the key ({exc.strerror or exc})") from None
    return signer
