"""Opening the files a user names: once, only what they are meant to be, never beyond a limit.

A path is opened once and the open file is examined (``fstat`` of its descriptor, so a
symbolic link is judged by what it points to, and nothing can be swapped in between a
check and the read). Only a regular file is read, at most ``limit + 1`` bytes, so neither
``/dev/zero`` nor ``/dev/urandom`` (whose size reads 0), nor a huge sparse file, costs more
than the limit; and what a read allocates follows the file, not the limit (a few bytes read
under a limit of 1 GiB cost a few bytes). A directory, a device or a socket is refused,
naming what it is. The open does not wait for a named pipe (FIFO) to get a writer: a pipe is
refused, except where a caller streams line by line with a bound per line
(:func:`open_stream`, the ``.jsonl`` batches).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO, TypeVar

T = TypeVar("T")


class FileReadError(Exception):
    """A file that cannot be read as asked: ``message`` says why; ``too_large`` when only its size is wrong."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


#: What an errno of a failed write says of the storage (not of the name or the permission given): these
#: end a command with exit code 3, not as a usage error nor as a bug to report.
STORAGE_ERRORS: dict[int, str] = {
    errno.ENOSPC: "the disk is full",
    errno.EFBIG: "a file would grow beyond the size this process may write (a file size limit, as ulimit -f sets)",
    errno.EIO: "the storage reported an I/O error",
}
if hasattr(errno, "EDQUOT"):  # not on every platform
    STORAGE_ERRORS[errno.EDQUOT] = "the disk quota is exceeded"
#: SQLite's primary result codes that say what its error is (``sqlite3.Error.sqlite_errorcode``, less its extension).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 5, 6, 10, 13, 14
#: The errno DuckDB's IOException carries in its message (``{"exception_type":"IO",...,"errno":"28"}``).
_DUCKDB_ERRNO = re.compile(r'"errno":"(\d{1,4})"')


def sqlite_result(exc: BaseException) -> int | None:
    """The primary result code of a SQLite error (SQLITE_IOERR of SQLITE_IOERR_WRITE), or None for another error."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def storage_refused(exc: BaseException) -> str | None:
    """What an error says of the storage, in words, when the storage refused a write: full, over a quota or
    a file size limit, or failing (an ``OSError`` of `STORAGE_ERRORS`, SQLite's SQLITE_FULL or SQLITE_IOERR,
    or DuckDB's IOException naming such an errno); None for any other error."""
    if isinstance(exc, OSError):
        return STORAGE_ERRORS.get(exc.errno) if exc.errno is not None else None
    if type(exc).__name__ == "IOException" and "duckdb" in type(exc).__module__:  # _duckdb
        found = _DUCKDB_ERRNO.search(str(exc))
        return STORAGE_ERRORS.get(int(found.group(1))) if found else None
    sqlite3 = sys.modules.get("sqlite3")  # imported by whatever raised a SQLite error
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        primary = sqlite_result(exc)
        if primary == SQLITE_FULL or "disk is full" in str(exc):
            return STORAGE_ERRORS[errno.ENOSPC]
        if primary == SQLITE_IOERR:  # its extended name says which operation: _WRITE, _FSYNC, _LOCK, _SHMOPEN...
            name = getattr(exc, "sqlite_errorname", "SQLITE_IOERR")
            return (f"the storage reported an I/O error ({name}: a failing disk, a file size limit as ulimit -f "
                    "sets, or a file system without the locks SQLite needs)")
    return None


def descriptors_exhausted(needed: int = 1) -> bool:
    """Whether this process cannot open ``needed`` more files at once (EMFILE: its limit, ``ulimit -n``; ENFILE:
    the system's), tried by opening them. SQLite then says only "unable to open database file", which would
    otherwise be taken for a missing or damaged log."""
    opened: list[int] = []
    try:
        for _ in range(needed):
            opened.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as exc:
        return exc.errno in (errno.EMFILE, errno.ENFILE)
    finally:
        for fd in opened:
            os.close(fd)
    return False


def too_many_open_files(cause: BaseException) -> OSError:
    """The OSError (EMFILE) to raise for a failure whose cause is that no more files can be opened."""
    error = OSError(errno.EMFILE, "too many open files")
    error.__cause__ = cause
    return error


def kind_of(mode: int) -> str:
    """What a file is, in words (for a refusal)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open(path: Path | str, what: str, *, allow_fifo: bool) -> tuple[int, os.stat_result]:
    # O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileReadError(f"cannot read the {what}: {exc.strerror or exc}") from None
    except ValueError:  # raised before any file is looked for: no file has such a name
        raise FileReadError(f"cannot read the {what}: {unusable_name(path)}") from None
    try:
        info = os.fstat(fd)
        if not (stat.S_ISREG(info.st_mode) or (allow_fifo and stat.S_ISFIFO(info.st_mode))):
            raise FileReadError(f"the {what} is {kind_of(info.st_mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def unusable_name(path: Path | str | bytes) -> str:
    """Why a name that ``os`` refuses before looking for a file (ValueError) can name none: it holds a NUL
    byte, or a character that has no bytes in the file system's encoding (a lone surrogate)."""
    name = os.fspath(path)
    nul = "\x00" in name if isinstance(name, str) else b"\x00" in name
    return "the name holds a NUL byte" if nul else "the name holds a character a file name cannot (a lone surrogate)"


#: The most bytes one read asks for beyond what a file's size says it holds (a file that grows while it is read,
#: or whose size says 0, as under /proc): memory follows the bytes there are, never the limit.
READ_CHUNK = 1024 * 1024


def read_limited(path: Path | str, limit: int, what: str) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    The first read asks for the size the file says it has (and one byte more, to see its end); any further
    read, for at most `READ_CHUNK` bytes: what is allocated follows the file, whatever the limit (a limit of
    1 GiB costs a small file nothing), and at most ``limit + 1`` bytes are read in all.

    Raises:
        FileReadError: the file cannot be opened, is not a regular file (the message names what
            it is: a directory, a FIFO, a character device...), or holds more than ``limit``
            bytes (``too_large``; its size is checked before reading, and the read stops at
            ``limit + 1`` bytes whatever the size says).
    """
    fd, info = _open(path, what, allow_fifo=False)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if info.st_size > limit:
            raise FileReadError(f"the {what} is larger than {_size(limit)} ({info.st_size} bytes)", too_large=True)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            want = min(limit + 1 - total, max(READ_CHUNK, info.st_size + 1 - total))
            try:
                chunk = handle.read(want)
            except OSError as exc:
                raise FileReadError(f"cannot read the {what}: {exc.strerror or exc}") from None
            if not chunk:  # its end
                break
            chunks.append(chunk)
            total += len(chunk)
    if total > limit:
        raise FileReadError(f"the {what} is larger than {_size(limit)}", too_large=True)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def open_stream(path: Path | str, what: str) -> BinaryIO:
    """A regular file or a named pipe, opened for reading in binary (the caller reads it line by
    line with a bound per line, and closes it).

    Raises:
        FileReadError: as :func:`read_limited`, but a FIFO is allowed.
    """
    fd, _ = _open(path, what, allow_fifo=True)
    return os.fdopen(fd, "rb")


def file_sha256(path: Path | str, what: str) -> str:
    """The SHA-256 (hex) of the regular file at ``path``, read once in blocks (memory bounded whatever its size).

    Raises:
        FileReadError: as :func:`read_limited` (missing, unreadable, not a regular file); no limit on the size.
    """
    fd, _ = _open(path, what, allow_fifo=False)
    with os.fdopen(fd, "rb") as handle:
        try:
            return hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            raise FileReadError(f"cannot read the {what}: {exc.strerror or exc}") from None


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def replace_atomically(path: Path | str, fill: Callable[[TextIO], T]) -> T:
    """``fill(handle)`` writes a file's new text (UTF-8, newlines as written), which then takes the place of
    ``path`` whole: written to a new file in the same folder, flushed to disk, renamed over ``path``, the folder
    flushed. The new file has the permissions of the one it replaces (a new one: those the process's umask
    gives, as an ordinary write would). A symbolic link is followed: the file it names is replaced, the link
    kept. A path that is there and is not a regular file (a device, a named pipe, a reader's pipe), or that is
    in /dev or /proc (``/dev/stdout``, even when it is a shell's redirection to a file), is written through, not
    replaced: there is nothing there to keep whole, and a device is never replaced by a file. Whatever fails
    (``fill`` raising, a full disk, an interrupt), a regular file is left as it was and the new file is
    removed; the error is raised as it came (a name no file can have, holding a NUL byte: an OSError, EINVAL).
    Returns what ``fill`` returns."""
    try:
        found: os.stat_result | None = os.stat(path)  # through a symbolic link
    except OSError:
        found = None  # not there yet: created as any file is, the umask applied
    except ValueError:  # a NUL byte in the name: no file can be written there (an OSError, as for any such name)
        raise OSError(errno.EINVAL, unusable_name(path), os.fspath(path)) from None
    real = Path(os.path.realpath(path))
    special = any(str(p).startswith(("/dev/", "/proc/")) for p in (Path(path).absolute(), real))
    if found is not None and (special or not stat.S_ISREG(found.st_mode)):  # /dev/stdout redirected to a file too
        with open(path, "w", encoding="utf-8", newline="\n") as through:  # a directory: IsADirectoryError
            return fill(through)
    folder = real.parent
    while True:
        temporary = folder / f".{real.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:  # pragma: no cover - 48 random bits taken already
            continue
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as handle:
            if found is not None:
                os.chmod(handle.fileno(), stat.S_IMODE(found.st_mode))
            filled = fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, real)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    return filled


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries to disk (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except (OSError, ValueError):  # (ValueError: a name no folder can have)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
