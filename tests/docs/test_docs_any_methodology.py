"""Generated pages of methodologies that are not ECEI: derived values, bands, levels, rescales.

The example methodologies (examples/methodologies) and the test data of the new constructs
(tests/data/{derived,points,bands}, tests/data/methodologies/energy-class) are rendered with
``version_page`` and ``provenance_page``; what each page must show is read from the ruleset files.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from ecei_rules import decide
from ecei_rules.cli.app import app
from ecei_rules.engine.evaluate import evaluate
from ecei_rules.registry import Registry
from ecei_rules.render.console import decision_renderable
from ecei_rules.render.docs import decision_text, provenance_page, readable, version_page
from ecei_rules.ruleset.load import Ruleset, load_ruleset, load_ruleset_text
from ecei_rules.testing.embedded import run_embedded

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "methodologies"
DATA = ROOT / "tests" / "data"


@cache
def _load(path: Path) -> Ruleset:
    return load_ruleset(path)


def _section(page: str, heading: str) -> str:
    """The text of ``## heading`` up to the next level-2 heading."""
    return page.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _row(section: str, marker: str) -> str:
    """The table row holding ``marker``."""
    return next(line for line in section.splitlines() if line.startswith("|") and marker in line)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split(" | ")]


def test_a_version_page_shows_each_derived_value_its_expression_what_it_reads_and_what_reads_it() -> None:
    """eu-fridge-label 1.0.0: the index is shown once, with its type and unit, its clause, its formula, the
    derived value and the input it reads itself, and the band that reads it."""
    page = version_page(_load(EXAMPLES / "eu-fridge-label" / "1.0.0.yaml"))
    derived = _section(page, "Derived values")
    assert derived.count('<span id="derived-') == 9  # every value of the file's derived: section
    row = _row(derived, 'id="derived-energy_index"')
    cells = _cells(row)
    assert "**Energy efficiency index EEI**" in cells[0]
    assert "decimal, %" in cells[0]
    assert "EEI = AEc / SAEc x 100, rounded to the first decimal place (Annex VIII)" in cells[0]
    # compared as a browser reads them: a character inside <code> may be written as a reference (&#42;)
    assert html.unescape(cells[1]) == ("<code>round(100 * aec_<wbr>kwh_<wbr>per_<wbr>year / "
                                       "standard_<wbr>energy, 1)</code>")
    assert cells[2] == ("derived value [<code>standard_<wbr>energy</code>](#derived-standard_energy)<br>"
                        "input <code>aec_<wbr>kwh_<wbr>per_<wbr>year</code>")
    assert cells[3] == "band [<code>energy_<wbr>class</code>](#band-energy_class)"
    # a parameter read is shown with its value, unit and provenance
    m_factor = _row(derived, 'id="derived-m_factor"')
    assert "[<code>m_<wbr>refrigerator</code>](#parameter-m_refrigerator) = **0.233** kWh/litre/year" in m_factor
    assert _cells(m_factor)[3] == "derived value [<code>standard_<wbr>energy</code>](#derived-standard_energy)"


def test_a_derived_value_read_by_a_criterion_and_a_validity_rule_names_both() -> None:
    """tests/data/derived 1.0.0: energy_index is read by criteria A and B and by the rule 'short'
    (``when: energy_index > 70``); a criterion reading it lists its own parameter and the value, not the
    parameter the value reads (per_litre)."""
    page = version_page(_load(DATA / "derived" / "1.0.0.yaml"))
    readers = _cells(_row(_section(page, "Derived values"), 'id="derived-energy_index"'))[3]
    assert readers == ("criterion [A](#criterion-A)<br>criterion [B](#criterion-B)<br>"
                       "validity rule [<code>short</code>](#rule-short)")
    b = _row(_section(page, "Criteria"), 'id="criterion-B"')
    assert "(#parameter-b_class_max) = **75** %" in b
    assert "derived value [<code>energy_<wbr>index</code>](#derived-energy_index)" in b
    assert "per_litre" not in b


def test_a_chain_of_conditional_choices_is_written_one_branch_a_line() -> None:
    """building-points 1.0.0: the indoor credit's six steps read as seven lines, the parentheses of the
    nested choices gone (the conditional is right-associative, so the meaning is the same)."""
    spec = _load(EXAMPLES / "building-points" / "1.0.0.yaml").document.derived["indoor_points"]
    lines = readable(spec.value)
    assert lines[0] == "6 if water.indoor_reduction_pct >= params.indoor_step_6"
    assert lines[1] == "else 5 if water.indoor_reduction_pct >= params.indoor_step_5"
    assert lines[-1] == "else 0"
    assert len(lines) == 7
    assert readable("a + (b if c else d)") == ["a + (b if c else d)"]
    assert readable("(x if p else y) if q else z") == ["(x if p else y) if q", "else z"]


def test_a_band_is_a_table_of_its_classes_with_intervals_as_written_and_its_provenance() -> None:
    """eu-fridge-label 1.0.0: energy_class places the derived index into ten classes; each row has the
    interval as the file writes it, the condition on the value and the tier requiring it; the band's
    assumed provenance is shown once. The classes are not criteria rows listing every parameter the
    index reads (there were 40 parameter cells per class)."""
    page = version_page(_load(EXAMPLES / "eu-fridge-label" / "1.0.0.yaml"))
    bands = _section(page, "Bands")
    assert "### Energy efficiency class {#band-energy_class}" in bands
    assert "places derived value [<code>energy_<wbr>index</code>](#derived-energy_index) % into 10 classes" in bands
    assert "- bounds provenance: **assumed**: Annex VI Table 1 of 1060/2010 was not read." in bands
    assert "- clause: Annex VI, Table 1: each class takes in its lower bound" in bands
    rows = [line for line in bands.splitlines() if line.startswith('| <span id="criterion-energy_class.')]
    assert len(rows) == 10
    assert html.unescape(rows[1]) == html.unescape(
        '| <span id="criterion-energy_class.A--"></span><code>A++</code> | <code>[22..33)</code> | '
        '<code>22 &lt;= energy_<wbr>index &lt; 33</code> % | [<code>A++</code>](#tier-A--) |')
    assert "<code>&gt;= 150</code>" in rows[-1]
    criteria = _section(page, "Criteria")
    assert criteria.startswith("\n1 criteria and 10 classes of [bands](#bands)")
    assert "energy_class.A" not in criteria.split("</div>", 1)[0].split("| id |", 1)[1]
    assert page.count("(#parameter-bi_built_in)") == 1  # in the row of the derived value that reads it, only


def test_a_band_over_an_expression_shows_the_parameters_it_reads() -> None:
    """tests/data/bands: the band's value is an expression reading parameters m and n, shown with their
    values and provenance beside the table."""
    bands = _section(version_page(_load(DATA / "bands" / "1.0.0.yaml")), "Bands")
    assert "- reads [<code>m</code>](#parameter-m) = **0.233** kWh/litre/year" in bands
    assert "- reads [<code>n</code>](#parameter-n) = **245** kWh/year" in bands
    assert "| <code>[33..42)</code> |" in html.unescape(bands)


def test_score_levels_show_each_minimum_in_points_and_the_tier_that_requires_it() -> None:
    """tests/data/points: four levels over one set of weights (8 points); Certified needs 2 points, and
    Platinum a share of 0.875, i.e. 7 points."""
    scores = _section(version_page(_load(DATA / "points" / "1.0.0.yaml")), "Scores")
    assert ("- level <code>points.<wbr>certified</code> (Certified points), minimum: "
            "[<code>certified_<wbr>points</code>](#parameter-certified_points) = **2** points; the met weight must "
            "reach **2**; required by the tier of [<code>certified</code>](#tier-certified)") in scores
    assert re.search(r"level <code>points\.<wbr>platinum</code> \(Platinum points\), threshold: .* = \*\*0\.875\*\* "
                     r"share; the met weight must reach \*\*7\*\*; required by the tier of "
                     r"\[<code>platinum</code>\]\(#tier-platinum\)", scores)


def test_a_rescale_shows_how_the_earlier_labels_map() -> None:
    """tests/data/methodologies/energy-class 2.0.0 declares labels_from 1.0.0; its page says so."""
    page = version_page(_load(DATA / "methodologies" / "energy-class" / "2.0.0.yaml"))
    assert ("| labels mapped from | [1.0.0](1.0.0.md) (a rescale: impact compares labels of the two versions by "
            "this mapping): C → C, B → C, A → B, A+ → B, A++ → A |") in page


def test_assumed_band_bounds_are_listed_on_the_provenance_page() -> None:
    """The provenance page lists a band whose bounds are assumed, with its classes and the versions."""
    page = provenance_page([_load(EXAMPLES / "eu-fridge-label" / "1.0.0.yaml")])
    section = _section(page, "Assumed band bounds")
    assert "<code>energy_<wbr>class</code> | A+++ &lt; 22, A++ \\[22..33)" in section
    assert "| 1.0.0 | Annex VI Table 1 of 1060/2010 was not read." in section


def test_the_decision_card_names_the_declared_subject_noun() -> None:
    """`evaluate` of a fridge says "appliance model F1-250", the noun its ruleset declares, not
    "subject F1-250"; an ECEI decision still says "organisation NO-0131"."""
    runner = CliRunner()
    fridge = runner.invoke(app, ["evaluate", "--rulesets", str(EXAMPLES), "-m", "eu-fridge-label",
                                 str(EXAMPLES / "eu-fridge-label" / "assessments" / "f1-unmeasured-2021.json")],
                           env={"COLUMNS": "120"})
    assert "appliance model F1-250" in fridge.stdout
    assert "subject F1-250" not in fridge.stdout
    ecei = decide(json.loads((ROOT / "examples" / "gold-2021.json").read_text(encoding="utf-8")))
    assert "organisation NO-0131" in decision_text(ecei)  # the implied subject: its key is its noun


def test_the_how_to_example_of_another_shape_loads_and_passes_its_embedded_tests() -> None:
    """docs/how-to/write-a-ruleset.md, section 6: the fridge label written with subject, derived values, a band
    and no expiry is a whole version that loads and whose hand-derived tests pass."""
    page = (ROOT / "docs" / "how-to" / "write-a-ruleset.md").read_text(encoding="utf-8")
    example = page.split("\n## 6. ", 1)[1].split("```yaml\n", 1)[1].split("\n```", 1)[0]
    ruleset = load_ruleset_text(example, "write-a-ruleset.md")
    assert set(ruleset.document.derived) == {"standard_energy", "energy_index"}
    results = run_embedded(ruleset)
    assert len(results) == 4
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_the_decision_card_shows_each_derived_value_once_not_every_parameter_per_class() -> None:
    """R3 (eu-fridge-label README 6.2) under 2.0.0: the card lists the 17 derived values once, in a table of
    their own (EEI 41.1 %), and each class row shows its condition on the index and the index's value; the
    27 parameters the index reads are not repeated as the "threshold" of each of the seven classes."""
    rulesets = Registry(EXAMPLES)
    data = json.loads((EXAMPLES / "eu-fridge-label" / "assessments" / "r3-fridge-freezer-2021.json").read_text())
    decision = evaluate(rulesets.get("eu-fridge-label", "2.0.0"), data)
    console = Console(record=True, width=200, color_system=None)
    console.print(decision_renderable(decision, noun="appliance model"))
    shown = console.export_text()
    derived = shown.split("Derived values", 1)[1].split("Criteria", 1)[0]
    assert sum(1 for line in derived.splitlines() if line.startswith("│ ")) == 17
    assert "│ energy_index                │ 41.1 %" in derived
    criteria = shown.split("Criteria", 1)[1]
    b = next(line for line in criteria.splitlines() if line.startswith("│ energy_class.B "))
    assert "energy_index = 41.1" in b
    assert "41 < energy_index <= 51" in b
    assert "c_low_base" not in criteria
    assert "appliance model R3-300" in shown
