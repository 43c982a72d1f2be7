"""``lint``: everything that keeps a rulesets directory trustworthy, in one pass.

For each methodology: every file checks clean; the versions form one lineage; published
versions still hash to their locked values; notice periods are respected (a warning); and
every consecutive pair (of each line, for versions chosen by an input's value) declares at
least the semver bump its changes require. The bump checks
search for counterexamples (``ecei_rules.testing.counterexample``), which is why lint sits with the
test tools, above ``compare``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecei_rules.compare.bump import BumpReport
from ecei_rules.errors import Diagnostic
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import ParseCache, check_ruleset, each_problem_once
from ecei_rules.testing.counterexample import bump_check


@dataclass
class LintReport:
    """Diagnostics (errors and warnings) and the bump checks that were run."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    bumps: list[BumpReport] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that are errors."""
        return [d for d in self.diagnostics if d.severity == "error"]


def lint(registry: Registry, *, notice_days: int = 30, examples: int = 500,
         methodologies: list[str] | None = None) -> LintReport:
    """Lint every methodology of a registry (or the ones named)."""
    report = LintReport()
    if methodologies is None:
        for name in registry.strays():
            report.diagnostics.append(Diagnostic(
                "L013", f"the folder '{name}' holds versions but is not read: a methodology's folder is named by its "
                "id (lower-case letters, digits and '-', starting with a letter)", str(registry.root / name),
                suggestion="rename the folder to the methodology's id, or move the files out of the rulesets "
                "directory", severity="warning"))
    for methodology in methodologies or registry.methodologies():
        files = [registry.path(methodology, v) for v in registry.versions(methodology)]
        parses = ParseCache()
        # a base's problem, or a loop of extends, once, however many versions meet it
        file_diags = each_problem_once(d for f in files for d in check_ruleset(f, cache=parses))
        report.diagnostics.extend(file_diags)
        if any(d.severity == "error" for d in file_diags):
            continue
        report.diagnostics.extend(registry.lineage(methodology))
        report.diagnostics.extend(registry.notice(methodology, notice_days))
        report.diagnostics.extend(registry.check_locks(methodology))
        for old_v, new_v in registry.successions(methodology):
            bump = bump_check(registry.load(methodology, old_v), registry.load(methodology, new_v),
                              max_examples=examples)
            report.bumps.append(bump)
            if not bump.ok:
                example = bump.counterexample
                detail = ""
                if example is not None:
                    new_label = example.new.label if example.new else "invalid"
                    detail = f"; counterexample: {example.old.label} under {old_v}, {new_label} under {new_v}"
                report.diagnostics.append(Diagnostic(
                    "L011", f"{old_v} -> {new_v} declares a {bump.declared} bump but its changes require "
                    f"{bump.required}{detail}", str(registry.path(methodology, new_v)), pointer="/version",
                    suggestion=f"run 'ecei-rules bump-check {methodology}@{old_v} {methodology}@{new_v}' for "
                    "the full report"))
    return report
