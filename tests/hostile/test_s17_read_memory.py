"""``core.files.read_limited``: what a read allocates follows the file, never the limit.

Before, the read was ``handle.read(limit + 1)``, which allocates ``limit + 1`` bytes before reading one: an SQL
impact study asked for 1 GiB (the limit of its prepared facts) to read a file of a few kilobytes, and failed with
a MemoryError under an address-space limit (``ulimit -v``, ``prlimit --as``) that the study itself fits in. The
guarantees stay: a file that holds more than its size said (one growing while read, one whose size says 0) is
read to its end within the limit, and at most ``limit + 1`` bytes are read whatever it holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import ecei_rules
from ecei_rules.core import files
from ecei_rules.core.files import FileReadError, read_limited

SRC = Path(ecei_rules.__file__).resolve().parent.parent
#: How much address space the child may take beyond what it holds once it has imported the reader: far less
#: than the 1 GiB the limit would have allocated, far more than reading a small file needs.
HEADROOM = 512 * 1024 * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced, and /proc read, on Linux")
def test_a_small_file_under_a_limit_of_a_gibibyte_reads_within_an_address_space_limit(tmp_path: Path) -> None:
    small = tmp_path / "prepared.json"
    small.write_bytes(b'{"facts": []}\n')
    script = textwrap.dedent(f"""
        import re, resource, sys
        from ecei_rules.core.files import read_limited
        size = int(re.search(r"VmSize:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
        cap = size + {HEADROOM}
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
        try:
            data = read_limited(sys.argv[1], 2**30, "prepared facts")
        except MemoryError:
            print("MemoryError")
            raise SystemExit(3)
        print(len(data))
        data = read_limited(sys.argv[1], 2**62, "a file under the largest limit")
        print(len(data))
    """)
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script, str(small)], capture_output=True, text=True, env=env,
                          check=False)
    assert (done.returncode, done.stdout.split()) == (0, ["14", "14"]), done.stderr


def _says_size(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """Files opened from now on say they hold ``size`` bytes (as one that grows after it is examined does)."""
    real = files._open

    def opened(*args: Any, **kwargs: Any) -> tuple[int, Any]:
        fd, info = real(*args, **kwargs)
        fields = list(info)
        fields[6] = size  # st_size
        return fd, os.stat_result(fields)

    monkeypatch.setattr(files, "_open", opened)


def test_a_file_holding_more_than_its_size_said_is_read_to_its_end_in_chunks(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "grown"
    path.write_bytes(bytes(range(256)) * 4)
    monkeypatch.setattr(files, "READ_CHUNK", 7, raising=False)
    for said in (0, 10, 1023):
        _says_size(monkeypatch, said)
        assert read_limited(path, 1024, "file") == bytes(range(256)) * 4
        with pytest.raises(FileReadError) as raised:
            read_limited(path, 1023, "file")
        assert raised.value.too_large
        monkeypatch.undo()
        monkeypatch.setattr(files, "READ_CHUNK", 7, raising=False)


def test_at_most_the_limit_and_one_byte_are_read_whatever_the_file_holds(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A sparse file of 64 GiB that says it holds nothing: the read stops one byte past the limit, and no read
    asks for more than `READ_CHUNK` bytes (what it allocates)."""
    huge = tmp_path / "huge"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024**3)
    monkeypatch.setattr(files, "READ_CHUNK", 4096, raising=False)
    _says_size(monkeypatch, 0)
    taken: list[int] = []
    fdopen = os.fdopen

    class Counting:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def read(self, n: int) -> bytes:
            data: bytes = self.handle.read(n)
            taken.append(len(data))
            return data

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

    monkeypatch.setattr(files.os, "fdopen", lambda *a, **k: Counting(fdopen(*a, **k)))  # each read counted
    with pytest.raises(FileReadError) as raised:
        read_limited(huge, 100_000, "file")
    assert raised.value.too_large
    assert sum(taken) == 100_001
    assert max(taken) <= 4096
