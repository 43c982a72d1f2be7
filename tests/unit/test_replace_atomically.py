"""`replace_atomically`: a file's new text takes its place whole, with its permissions, or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TextIO

import pytest

from ecei_rules.core.files import replace_atomically


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_new_file_gets_what_fill_writes_and_the_permissions_the_umask_gives(tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    assert replace_atomically(target, lambda handle: handle.write("é\n")) == 2
    assert target.read_bytes() == "é\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["new.json"]


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    """A lock kept readable by a group (0640) stays so; it does not become the temporary file's 0600."""
    target = tmp_path / "published.lock.json"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    replace_atomically(target, lambda handle: handle.write("new\n"))
    assert target.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_whatever_fails_while_writing_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """``fill`` raising half way (as a full disk or an interrupt would): the old text whole, no file left beside
    it, the error raised as it came."""
    target = tmp_path / "receipt.json"
    target.write_text("the earlier receipt\n", encoding="utf-8")

    def half(handle: TextIO) -> None:
        handle.write("the start of the new one")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_atomically(target, half)
    assert target.read_text(encoding="utf-8") == "the earlier receipt\n"
    assert [p.name for p in tmp_path.iterdir()] == ["receipt.json"]


def test_a_symbolic_link_is_followed_and_kept(tmp_path: Path) -> None:
    """A lock kept as a link to a shared file: the file it names gets the new text (its mode kept), the link
    stays a link to it."""
    shared = tmp_path / "shared.json"
    shared.write_text("old\n", encoding="utf-8")
    shared.chmod(0o640)
    link = tmp_path / "published.lock.json"
    link.symlink_to(shared.name)
    replace_atomically(link, lambda handle: handle.write("new\n"))
    assert link.is_symlink()
    assert os.readlink(link) == "shared.json"
    assert shared.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.lock.json", "shared.json"]


def test_a_named_pipe_is_written_through_never_replaced(tmp_path: Path) -> None:
    """``receipt --out PIPE`` (or ``/dev/stdout``, which a rename would replace by a file in /dev): the text goes
    to the pipe's reader, and the pipe stays a pipe."""
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    read: list[bytes] = []

    def reader() -> None:
        with open(pipe, "rb") as handle:
            read.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)  # a regression (the pipe replaced) fails, not hangs
    thread.start()
    replace_atomically(pipe, lambda handle: handle.write("the receipt\n"))
    thread.join(timeout=60)
    assert read == [b"the receipt\n"]
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]
