"""Coverage-guided fuzzing of ecei-rules' readers of untrusted input under atheris (libFuzzer for Python).

    .venv/bin/python scripts/fuzz_atheris.py TARGET [libFuzzer options]     # e.g. -max_total_time=600 corpus/
    .venv/bin/python scripts/fuzz_atheris.py --list

TARGET is one of yaml (the safe YAML reader and the ruleset loader), expression (the condition compiler),
assessment (JSON assessments parsed and decided), assessment-files (``batch.read_assessments`` on .jsonl,
.json and .yaml), log (bytes as a SQLite log and a JSONL export, through ``verify``) and cli (the command
line on arguments made from the input). The targets are those of the hypothesis fuzzers in
``tests/fuzz/fuzz_targets.py``: a crash is an exception other than the library's documented ones, or, for
the command line, an undocumented exit code or a traceback. libFuzzer writes each crashing input to
``crash-<hash>``; replay one with ``scripts/fuzz_atheris.py TARGET crash-<hash>``.

atheris is not a dependency of ecei-rules: install it with ``.venv/bin/pip install atheris`` (it builds
against clang's libFuzzer on platforms without a wheel).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fuzz"))


def _cli_target() -> object:
    from fuzz_targets import fuzz_cli

    folder = Path(tempfile.mkdtemp(prefix="ecei-fuzz-"))
    examples = HERE.parent / "examples"
    (folder / "gold.json").write_bytes((examples / "gold-2021.json").read_bytes())
    (folder / "batch.jsonl").write_bytes((examples / "batch.jsonl").read_bytes())
    os.chdir(folder)  # whatever a command writes stays in here

    def target(data: bytes) -> None:
        words = data.decode("utf-8", "surrogateescape").split("\x00")[:8]
        if not words or words[0] == "lock":  # never write into the shipped rulesets
            return
        fuzz_cli(words)

    return target


def main() -> int:
    try:
        import atheris
    except ImportError:
        print("atheris is not installed: .venv/bin/pip install atheris (not a dependency of ecei-rules)",
              file=sys.stderr)
        return 2
    with atheris.instrument_imports():
        from fuzz_targets import TARGETS

        import ecei_rules.cli.app  # noqa: F401  (instrumented: coverage guides the search)
    names = [*TARGETS, "cli"]
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help", "--list") or sys.argv[1] not in names:
        print(__doc__.split("\n\n")[1] if len(sys.argv) > 1 and sys.argv[1] != "--list" else "\n".join(names))
        return 0 if len(sys.argv) > 1 and sys.argv[1] in ("--list", "-h", "--help") else 2
    name = sys.argv.pop(1)
    target = _cli_target() if name == "cli" else TARGETS[name]
    atheris.Setup(sys.argv, target)  # type: ignore[arg-type]
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
