"""``ecei-rules explain``: why a decision came out as it did, and what it takes to reach the next label.

Exit codes as for ``evaluate``: 0 success; 1 an assessment is invalid; 2 usage errors (unknown version
or language, no file) and a version that does not load.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecei_rules.batch import Item, Resolver, error_json
from ecei_rules.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    MethodologyOption,
    RulesetFileOption,
    RulesetsOption,
    VersionOption,
    check_input,
    err_console,
    fail,
    is_batch,
    print_problems,
    read,
)
from ecei_rules.cli.decide import ready, resolver_spec
from ecei_rules.core.terminal import SafeConsole, markup
from ecei_rules.errors import AssessmentError, ResolutionError, RulesetError
from ecei_rules.explanation import DEFAULT_MAX_CHANGE_SETS, DEFAULT_NEAR_MARGIN
from ecei_rules.explanation.limits import MAX_CHANGE_SETS, MAX_LISTED_CHANGES

if TYPE_CHECKING:
    from ecei_rules.explanation.model import Explanation


class ExplainFormat(StrEnum):
    """Output formats of ``explain``."""

    text = "text"
    markdown = "markdown"
    json = "json"


def explain(
    assessment: Annotated[Path | None, typer.Argument(metavar="ASSESSMENTS", help="An assessment (.json, .yaml), "
                                                      "a batch (.jsonl), or - for standard input.")]
    = None,
    version: VersionOption = None,
    format: Annotated[ExplainFormat, typer.Option("--format", "-f", metavar="text|markdown|json", help="text, "
                                                  "markdown, or json (the stable explanation schema; JSON Lines "
                                                  "for a batch).")] = ExplainFormat.text,
    language: Annotated[str, typer.Option("--language", "-l", metavar="LANG", help="Language of the "
                                          "sentences.")] = "en",
    methodology: MethodologyOption = None,
    ruleset: RulesetFileOption = None,
    rulesets: RulesetsOption = None,
    max_sets: Annotated[int, typer.Option("--max-sets", min=1, max=MAX_CHANGE_SETS, metavar="N",
                                          help=f"Change sets listed per tier, 1 to {MAX_CHANGE_SETS:,} (the "
                                          "count and the compact form stay exact); the sets of one explanation "
                                          f"list at most {MAX_LISTED_CHANGES:,} changes in all (each list keeps "
                                          "its first set).")] = DEFAULT_MAX_CHANGE_SETS,
    near_margin: Annotated[str, typer.Option("--near-margin", metavar="SHARE", help="A value within this share of "
                                             "its threshold is a near miss.")] = str(DEFAULT_NEAR_MARGIN),
    json_schema: Annotated[bool, typer.Option("--json-schema", help="Print the JSON Schema of the json "
                                              "format and exit.")] = False,
) -> None:
    """Explain each decision: clause-cited reasons per tier, near misses, and what it takes to reach higher tiers."""
    from ecei_rules.explanation import explanation_json_schema

    if json_schema:
        print(json.dumps(explanation_json_schema(), indent=2))
        return
    if assessment is None:
        fail("give an assessment file (or --json-schema)")
    check_input(assessment)
    margin = _options(language, near_margin)
    resolve = ready(resolver_spec(ruleset, rulesets, methodology, version), assessment, build=False)
    batch = is_batch(assessment)
    failures = broken = 0
    for item in read(assessment):
        outcome = _explain_one(item, resolve, language=language, margin=margin, max_sets=max_sets)
        if isinstance(outcome, RulesetError):  # the version that would decide is broken, or edited after publication
            broken += 1
        elif isinstance(outcome, (AssessmentError, ResolutionError)):
            failures += 1
        _print(item, outcome, format, batch)
    raise typer.Exit(EXIT_USAGE if broken else EXIT_FINDINGS if failures else 0)


def _options(language: str, near_margin: str) -> Decimal:
    """Check --language (exit 2 when no messages are written in it); the margin --near-margin gives."""
    from ecei_rules.explanation import languages

    if language not in languages():
        fail(f"no messages for the language '{language}'; available: {', '.join(languages())}")
    from ecei_rules.explanation.limits import margin_problem

    try:
        margin = Decimal(near_margin)
    except InvalidOperation:
        fail(f"--near-margin {near_margin!r} is not a number (e.g. 0.1)")
    problem = margin_problem(margin)
    if problem is not None:
        fail(f"--near-margin {near_margin!r}: {problem}")
    return margin


def _explain_one(item: Item, resolve: Resolver, *, language: str, margin: Decimal,
                 max_sets: int) -> Explanation | AssessmentError | ResolutionError | RulesetError:
    """The explanation of one assessment, or why there is none."""
    from ecei_rules.explanation import explain as explain_decision

    try:
        if item.error is not None:
            raise item.error
        chosen, resolution = resolve(item.data)
        return explain_decision(chosen, item.data, resolution=resolution, language=language, near_margin=margin,
                                max_change_sets=max_sets)
    except (AssessmentError, ResolutionError, RulesetError) as exc:
        return exc


def _print(item: Item, outcome: Explanation | AssessmentError | ResolutionError | RulesetError,
           format: ExplainFormat, batch: bool) -> None:
    """One explanation (or its error) in the format asked for."""
    from ecei_rules.explanation import render_markdown, render_text

    if isinstance(outcome, (AssessmentError, ResolutionError, RulesetError)):
        if format is ExplainFormat.json:
            sys.stdout.write(json.dumps({"error": error_json(outcome, item.index)}, ensure_ascii=False) + "\n")
        elif isinstance(outcome, (AssessmentError, RulesetError)):
            print_problems(outcome.diagnostics, err_console(), prefix=f"line {item.index}: " if batch else "")
        else:
            prefix = f"line {item.index}: " if batch else ""
            err_console().print(f"{markup(prefix)}[red]error:[/red] {markup(outcome)}", highlight=False)
        return
    if format is ExplainFormat.json:
        sys.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False, indent=None if batch else 2) + "\n")
        return
    if batch:
        SafeConsole(soft_wrap=True).rule(f"line {item.index}")
    sys.stdout.write(render_markdown(outcome) if format is ExplainFormat.markdown else render_text(outcome))
    sys.stdout.flush()


#: The commands of this module, by name.
COMMANDS = (("explain", explain),)
