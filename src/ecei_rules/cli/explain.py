"""``ecei-rules explain``: why a decision came out as it did, and what it takes to reach the next label.

Registered on the app when :mod:`ecei_rules.cli.app` is imported. Exit codes as for ``evaluate``:
0 success; 1 an assessment is invalid; 2 usage errors (unknown version or language, no file).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ecei_rules.batch import Resolver, error_json, fixed_resolver, registry_resolver
from ecei_rules.cli.app import _check_input, _is_batch, _read, app
from ecei_rules.core.terminal import SafeConsole, markup
from ecei_rules.errors import AssessmentError, ResolutionError, RulesetError
from ecei_rules.explanation import DEFAULT_MAX_CHANGE_SETS, DEFAULT_NEAR_MARGIN
from ecei_rules.registry import DEFAULT_METHODOLOGY, Registry
from ecei_rules.render.console import print_assessment_error, print_diagnostics
from ecei_rules.ruleset.load import load_ruleset


class ExplainFormat(StrEnum):
    """Output formats of ``explain``."""

    text = "text"
    markdown = "markdown"
    json = "json"


def _err() -> Console:
    return SafeConsole(stderr=True)


def _usage(message: str) -> typer.Exit:
    _err().print(f"[red]error:[/red] {markup(message)}", highlight=False)
    return typer.Exit(2)


def _resolver(ruleset: Path | None, rulesets: Path | None, methodology: str, version: str | None) -> Resolver:
    try:
        if ruleset is not None:
            return fixed_resolver(load_ruleset(ruleset))
        registry = Registry(rulesets) if rulesets is not None else Registry.shipped()
        if version is not None:
            registry.get(methodology, version)
        else:
            registry.versions(methodology)
        return registry_resolver(registry, methodology, version)
    except ResolutionError as exc:
        raise _usage(str(exc)) from None
    except RulesetError as exc:
        print_diagnostics(exc.diagnostics, _err())
        raise typer.Exit(2) from None


@app.command("explain")
def explain_command(
    assessment: Annotated[Path | None, typer.Argument(help="An assessment (.json, .yaml) or a batch (.jsonl).")]
    = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="Pin a version (default: the one in "
                                                "force on the assessment's assessed_on).")] = None,
    format: Annotated[ExplainFormat, typer.Option("--format", "-f", help="text, markdown, or json (the "
                                                  "stable explanation schema; JSON Lines for a batch).")]
    = ExplainFormat.text,
    language: Annotated[str, typer.Option("--language", "-l", help="Language of the sentences.")] = "en",
    methodology: Annotated[str, typer.Option("--methodology", "-m", help="Methodology id.")] = DEFAULT_METHODOLOGY,
    ruleset: Annotated[Path | None, typer.Option("--ruleset", "-r", help="Explain with this ruleset file.")]
    = None,
    rulesets: Annotated[Path | None, typer.Option("--rulesets", help="A rulesets directory (default: the "
                                                  "rulesets shipped with the package).")] = None,
    max_sets: Annotated[int, typer.Option("--max-sets", min=1, help="Change sets listed per tier (the count "
                                          "and the compact form stay exact).")] = DEFAULT_MAX_CHANGE_SETS,
    near_margin: Annotated[str, typer.Option("--near-margin", help="A value within this share of its "
                                             "threshold is a near miss.")] = str(DEFAULT_NEAR_MARGIN),
    json_schema: Annotated[bool, typer.Option("--json-schema", help="Print the JSON Schema of the json "
                                              "format and exit.")] = False,
) -> None:
    """Explain each decision: clause-cited reasons per tier, near misses, and what it takes to reach higher tiers."""
    from ecei_rules.explanation import explain, explanation_json_schema, languages, render_markdown, render_text

    if json_schema:
        print(json.dumps(explanation_json_schema(), indent=2))
        return
    if assessment is None:
        raise _usage("give an assessment file (or --json-schema)")
    _check_input(assessment)
    if language not in languages():
        raise _usage(f"no messages for the language '{language}'; available: {', '.join(languages())}")
    try:
        margin = Decimal(near_margin)
    except InvalidOperation:
        raise _usage(f"--near-margin {near_margin!r} is not a number (e.g. 0.1)") from None
    if not margin.is_finite() or margin < 0:
        raise _usage("--near-margin must be a number of at least 0 (e.g. 0.1)")
    resolve = _resolver(ruleset, rulesets, methodology, version)
    batch = _is_batch(assessment)
    failures = broken = 0
    console = SafeConsole(soft_wrap=True)
    for item in _read(assessment):
        prefix = f"line {item.index}: " if batch else ""
        try:
            if item.error is not None:
                raise item.error
            chosen, resolution = resolve(item.data)
            expl = explain(chosen, item.data, resolution=resolution, language=language, near_margin=margin,
                           max_change_sets=max_sets)
        except (AssessmentError, ResolutionError) as exc:
            failures += 1
            if format is ExplainFormat.json:
                sys.stdout.write(json.dumps({"error": error_json(exc, item.index)}, ensure_ascii=False) + "\n")
            elif isinstance(exc, AssessmentError):
                print_assessment_error(exc.diagnostics, _err(), prefix)
            else:
                _err().print(f"{markup(prefix)}[red]error:[/red] {markup(exc)}", highlight=False)
            continue
        except RulesetError as exc:  # the version that would decide is broken, or edited after publication
            broken += 1
            if format is ExplainFormat.json:
                sys.stdout.write(json.dumps({"error": error_json(exc, item.index)}, ensure_ascii=False) + "\n")
            else:
                print_diagnostics(exc.diagnostics, _err())
            continue
        if format is ExplainFormat.json:
            text = json.dumps(expl.to_json(), ensure_ascii=False, indent=None if batch else 2)
            sys.stdout.write(text + "\n")
        else:
            if batch:
                console.rule(f"line {item.index}")
            sys.stdout.write(render_markdown(expl) if format is ExplainFormat.markdown else render_text(expl))
            sys.stdout.flush()
    raise typer.Exit(2 if broken else 1 if failures else 0)
