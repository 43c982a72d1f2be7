"""``ecei-rules check-properties DIR``: every property check on every version (and consecutive pair)
of a rulesets directory, each counterexample saved as an assessment to re-run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecei_rules.cli.common import (
    EXIT_FINDINGS,
    MAX_EXAMPLES,
    Format,
    FormatOption,
    console,
    exit_on_load_errors,
    fail,
    print_json,
    print_problems,
    write_failed,
)
from ecei_rules.core.terminal import markup, show_path, text
from ecei_rules.registry import Registry

if TYPE_CHECKING:
    from ecei_rules.testing.properties import VerifyResult


def check_properties(
    rulesets: Annotated[Path, typer.Argument(metavar="DIR", help="A rulesets directory "
                                             "(DIR/<methodology>/<version>.yaml).")],
    examples: Annotated[int, typer.Option("--examples", metavar="N", min=1, max=MAX_EXAMPLES,
                                          help="Generated assessments per property, 1 to 1,000,000 (searched in "
                                          "rounds of at most 500: memory bounded whatever N).")] = 100,
    out: Annotated[Path | None, typer.Option("--out", metavar="DIR", help="Write each counterexample here as an "
                                             "assessment file.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Count a vacuous check (one that tested nothing) as a "
                                         "failure.")] = False,
    format: FormatOption = Format.text,
) -> None:
    """Check every property of a rulesets directory: determinism, replay, content hash, sufficiency and the
    monotonicities. A check that tested nothing (no criterion it applies to, or no example that reached it) is
    reported as vacuous: not a failure unless --strict. Exit 1 on counterexamples (and, with --strict, on vacuous
    checks), 2 on usage errors."""
    from ecei_rules.testing.properties import save_counterexamples, verify_registry

    if not rulesets.is_dir():
        fail(f"{show_path(rulesets)} is not a directory; check-properties checks a rulesets directory (a decision "
             "log is checked by 'ecei-rules verify LOG')")
    if out is not None and out.exists() and not out.is_dir():  # before the checks, not after them
        fail(f"{show_path(out)} is not a directory; --out names the folder the counterexamples are written to")
    registry = Registry(rulesets)
    if not registry.methodologies():  # nothing checked is no success
        fail(f"no rulesets found in {rulesets} (expected {rulesets}/<methodology>/<version>.yaml)")
    with exit_on_load_errors():
        results = verify_registry(registry, max_examples=examples,
                                  progress=_show if format is Format.text else None)
    saved: list[Path] = []
    if out is not None:
        try:
            saved = save_counterexamples(results, out)
        except OSError as exc:
            write_failed(f"cannot write the counterexamples to {show_path(out)}", exc)
    failed = sum(1 for r in results if r.violation is not None)
    vacuous = sum(1 for r in results if r.vacuous is not None)
    if format is Format.json:
        print_json(_report(results, saved, strict))
    else:
        for path in saved:
            console().print(text(f"counterexample saved: {show_path(path)} (re-run: ecei-rules evaluate "
                                 f"{show_path(path)} --version ...)"))
        tail = f" ({vacuous} of them vacuous: they tested nothing)" if vacuous else ""
        console().print(f"{len(results) - failed} of {len(results)} property checks hold{tail}")
    raise typer.Exit(EXIT_FINDINGS if failed or (strict and vacuous) else 0)


def _report(results: list[VerifyResult], saved: list[Path], strict: bool) -> dict[str, object]:
    """The JSON report: each check's result (with ``vacuous`` when it tested nothing), the files saved."""
    return {"results": [{"methodology": r.methodology, "target": r.target, "property": r.property,
                         "ok": r.violation is None, "vacuous": r.vacuous, "seconds": round(r.seconds, 3),
                         "counterexample": r.violation.to_json() if r.violation else None} for r in results],
            "saved": [str(path) for path in saved], "vacuous": sum(1 for r in results if r.vacuous is not None),
            "strict": strict}


def _show(result: VerifyResult) -> None:
    """One property check's result as it completes."""
    mark = ("[red]COUNTEREXAMPLE[/red]" if result.violation is not None
            else f"[yellow]{markup(result.vacuous)}[/yellow]" if result.vacuous is not None else "[green]ok[/green]")
    console().print(f"{markup(result.methodology)} {markup(result.target)}: {markup(result.property)} {mark} "
                    f"({result.seconds:.1f} s)", highlight=False)
    if result.violation is not None:
        print_problems([result.violation], console(), prefix="    ")


#: The commands of this module, by name.
COMMANDS = (("check-properties", check_properties),)
