"""``synth --profile FILE``: the profile is read as every file a user names is (``core.files``), and a profile
whose weights cannot draw anything is refused where it says so.

Read with ``Path.read_text`` before, a named pipe waited for a writer and then for its end, ``/dev/zero`` was read
until memory ran out, a sparse file of gigabytes was read whole (out of memory, not "too large"); weights that
add up to 0 passed the load and failed at the first draw, "Total of weights must be greater than zero", with
neither the file nor the key.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecei_rules.cli.app import app
from ecei_rules.testing.synth import load_profile

ZERO_CHOICES = "description: all weights 0\nchoices:\n  /organisation/country: {DE: 0, FR: 0}\n"
ZERO_LENGTHS = "lengths:\n  /history: {0: 0, 1: 0.0}\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    """A writer waits on the pipe; the profile must be refused for what it is, not read from it. (Before, the
    read waited for this writer and took its text as the profile.) The writer is let go after."""
    fifo = tmp_path / "profile.fifo"
    os.mkfifo(fifo)
    written: list[BaseException] = []

    def writer() -> None:
        try:
            fd = os.open(fifo, os.O_WRONLY)  # waits for a reader
            try:
                os.write(fd, b"choices: {/organisation/country: [DE]}\n")
            finally:
                os.close(fd)
        except OSError as error:  # pragma: no cover - the reader went first
            written.append(error)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        with pytest.raises(ValueError, match=r"named pipe \(FIFO\), not a regular file"):
            load_profile(fifo)
    finally:
        release = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the writer's open returns
        thread.join(timeout=60)
        os.close(release)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_device_and_a_directory_are_refused_for_what_they_are(tmp_path: Path) -> None:
    """``/dev/null`` (before: an empty profile) and ``/dev/zero`` (before: read until memory ran out) are
    character devices, a folder is a directory: none is read."""
    for device in ("/dev/null", "/dev/zero"):
        if os.path.exists(device):
            with pytest.raises(ValueError, match="is a character device, not a regular file"):
                load_profile(device)
    with pytest.raises(ValueError, match="is a directory, not a regular file"):
        load_profile(tmp_path)


def test_a_file_too_large_is_refused_by_its_size_not_read(tmp_path: Path) -> None:
    """A sparse file one byte over the limit (nothing on disk): refused as too large, naming the limit."""
    from ecei_rules.testing import synth

    limit = getattr(synth, "MAX_PROFILE_BYTES", 4 * 1024 * 1024)
    sparse = tmp_path / "sparse.yaml"
    with sparse.open("wb") as handle:
        handle.truncate(limit + 1)
    with pytest.raises(ValueError, match=r"is larger than 4 MiB \(4194305 bytes\)"):
        load_profile(sparse)


@pytest.mark.parametrize(("profile", "where", "pointer"), [
    (ZERO_CHOICES, ":3:3: choices for /organisation/country", "/choices/~1organisation~1country"),
    (ZERO_LENGTHS, ":2:3: lengths for /history", "/lengths/~1history"),
])
def test_weights_that_add_up_to_zero_are_a_located_error_of_the_profile(tmp_path: Path, profile: str, where: str,
                                                                        pointer: str) -> None:
    """Refused on loading, naming the file, the line and column of the entry, the entry and its JSON pointer in
    the profile (before: loaded, then "Total of weights must be greater than zero" at the first draw)."""
    path = tmp_path / "zero.yaml"
    path.write_text(profile, encoding="utf-8")
    with pytest.raises(ValueError, match="the weights add up to 0") as raised:
        load_profile(path)
    message = str(raised.value)
    assert f"{path}{where}: the weights add up to 0" in message
    assert f"(at {pointer})" in message


def test_synth_with_zero_weights_is_a_usage_error_naming_the_profile(tmp_path: Path) -> None:
    path = tmp_path / "zero.yaml"
    path.write_text(ZERO_CHOICES, encoding="utf-8")
    result = CliRunner().invoke(app, ["synth", "--as-of", "2021-06-01", "-n", "5", "--profile", str(path)])
    assert result.exit_code == 2, result.output
    assert "zero.yaml:3:3: choices for /organisation/country: the weights add up to 0" in result.output
    assert "Total of weights" not in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("weights", ["{DE: -1, FR: 1}", "{DE: '2', FR: 1}", "{DE: yes, FR: 1}"])
def test_a_weight_that_is_not_a_number_above_or_at_zero_is_located(tmp_path: Path, weights: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"choices:\n  /organisation/country: {weights}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml:2:\d+: choices for /organisation/country: .*\(at /choices/"):
        load_profile(path)
