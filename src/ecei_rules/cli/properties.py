"""``ecei-rules check-properties DIR``: every property check on every version (and consecutive pair)
of a rulesets directory, each counterexample saved as an assessment to re-run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecei_rules.cli.common import (
    EXIT_FINDINGS,
    Format,
    FormatOption,
    console,
    exit_on_load_errors,
    fail,
    print_json,
    print_problems,
)
from ecei_rules.core.terminal import markup, show_path, text
from ecei_rules.registry import Registry

if TYPE_CHECKING:
    from ecei_rules.testing.properties import VerifyResult


def check_properties(
    rulesets: Annotated[Path, typer.Argument(metavar="DIR", help="A rulesets directory "
                                             "(DIR/<methodology>/<version>.yaml).")],
    examples: Annotated[int, typer.Option("--examples", metavar="N", help="Generated assessments per "
                                          "property.")] = 100,
    out: Annotated[Path | None, typer.Option("--out", metavar="DIR", help="Write each counterexample here as an "
                                             "assessment file.")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Check every property of a rulesets directory: determinism, replay, content hash, sufficiency and the
    monotonicities. Exit 1 on counterexamples, 2 on usage errors."""
    from ecei_rules.testing.properties import save_counterexamples, verify_registry

    if not rulesets.is_dir():
        fail(f"{show_path(rulesets)} is not a directory; check-properties checks a rulesets directory (a decision "
             "log is checked by 'ecei-rules verify LOG')")
    registry = Registry(rulesets)
    if not registry.methodologies():  # nothing checked is no success
        fail(f"no rulesets found in {rulesets} (expected {rulesets}/<methodology>/<version>.yaml)")
    with exit_on_load_errors():
        results = verify_registry(registry, max_examples=examples,
                                  progress=_show if format is Format.text else None)
    saved = save_counterexamples(results, out) if out is not None else []
    failed = sum(1 for r in results if r.violation is not None)
    if format is Format.json:
        print_json({"results": [{"methodology": r.methodology, "target": r.target, "property": r.property,
                                 "ok": r.violation is None, "seconds": round(r.seconds, 3),
                                 "counterexample": r.violation.to_json() if r.violation else None}
                                for r in results], "saved": [str(path) for path in saved]})
    else:
        for path in saved:
            console().print(text(f"counterexample saved: {show_path(path)} (re-run: ecei-rules evaluate "
                                 f"{show_path(path)} --version ...)"))
        console().print(f"{len(results) - failed} of {len(results)} property checks hold")
    raise typer.Exit(EXIT_FINDINGS if failed else 0)


def _show(result: VerifyResult) -> None:
    """One property check's result as it completes."""
    mark = "[green]ok[/green]" if result.violation is None else "[red]COUNTEREXAMPLE[/red]"
    console().print(f"{markup(result.methodology)} {markup(result.target)}: {markup(result.property)} {mark} "
                    f"({result.seconds:.1f} s)", highlight=False)
    if result.violation is not None:
        print_problems([result.violation], console(), prefix="    ")


#: The commands of this module, by name.
COMMANDS = (("check-properties", check_properties),)
