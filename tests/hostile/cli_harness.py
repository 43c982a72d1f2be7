"""Running the command line as a user does, through :func:`ecei_rules.cli.app.run` (the top-level handler
included), in this process or as a real subprocess; and the check that output is safe for a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

import ecei_rules
from ecei_rules.cli.app import run

SRC = Path(ecei_rules.__file__).resolve().parent.parent
ROOT = SRC.parent
EXAMPLES = ROOT / "examples"
#: What no byte of output may be, but a newline: controls (C0, DEL, C1: escape sequences start with ESC or
#: \x9b), format characters (bidi overrides, zero-width), lone surrogates, line and paragraph separators.
UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def both(self) -> str:
        return self.stdout + self.stderr


def cli(args: Sequence[str], *, input: bytes | str | None = None, env: dict[str, str] | None = None) -> Ran:
    """Run the command line in this process (colour off: not a terminal) and capture its output as UTF-8."""
    runner = CliRunner()
    with runner.isolation(input=input, env={"NO_COLOR": "1", **(env or {})}) as (out, err, _):
        code = run(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue(), err.getvalue()
    return Ran(code, stdout.decode("utf-8"), stderr.decode("utf-8"))


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1", **extra}
    env.pop("ECEI_RULES_DEBUG", None)
    return env


def command(*args: str) -> list[str]:
    """The argv of ``ecei-rules ARGS`` in a new interpreter on this source tree."""
    return [sys.executable, "-c", "from ecei_rules.cli.app import main; main()", *args]


def run_subprocess(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command(*args), input=input, capture_output=True, env=subprocess_env(), timeout=300,
                          check=False)


def unsafe(text: str) -> list[str]:
    """Every character of ``text`` that could move the cursor, retitle the terminal or reorder text."""
    return [c for c in text if c != "\n" and unicodedata.category(c) in UNSAFE]
