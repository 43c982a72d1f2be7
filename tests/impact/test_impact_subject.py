"""Impact tables name what the methodology labels (its declared subject), not organisations.

tests/data/subject/1.0.0.yaml -> 2.0.0.yaml: Gold's bound rises from 50 to 60 kWh/m2. Derived by
hand for the four buildings below (assessed 2022-01-10):

* B-1, 55, not certified: Silver to 2025-01-31 under 1.0.0 (55 > 50), Gold with no expiry under
  2.0.0 (55 <= 60): a gain, attributed to the changed parameter gold_max (through G1);
* B-2, 40: Gold under both; B-3, 80, not certified: Silver to 2025-01-31 under both;
* B-4, 80, certified to 2021-03-18: a validity ending before it starts under 1.0.0 (A007), an
  error of its line, not a decision.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from ecei_rules.compare.impact import impact
from ecei_rules.render.impact import impact_markdown, impact_renderable, transition_chart
from ecei_rules.ruleset.load import load_ruleset

DATA = Path(__file__).resolve().parent.parent / "data" / "subject"
DAY = "2022-01-10"
POPULATION = [
    {"building": {"id": "B-1"}, "assessed_on": DAY, "energy_use": 55, "certified": False},
    {"building": {"id": "B-2"}, "assessed_on": DAY, "energy_use": 40},
    {"building": {"id": "B-3"}, "assessed_on": DAY, "energy_use": 80, "certified": False},
    {"building": {"id": "B-4"}, "assessed_on": DAY, "energy_use": 80, "certified": True,
     "certificate_until": "2021-03-18"},
]


def test_impact_tables_name_the_subject() -> None:
    """Markdown, console and SVG say "buildings" where they counted organisations; the JSON names a
    transition's subject by "subject", as decisions do; the building whose validity would end
    before it starts is an error of its line (A007), and the others are still decided."""
    report = impact(load_ruleset(DATA / "1.0.0.yaml"), load_ruleset(DATA / "2.0.0.yaml"), POPULATION)
    assert report.decided == 3
    assert [(e.code, e.index, e.version) for e in report.errors] == [("A007", 4, "1.0.0")]
    assert [(t.subject, t.old_label, t.new_label) for t in report.transitions] == [("B-1", "silver", "gold")]
    assert report.matrix["silver"]["gold"] == report.matrix["gold"]["gold"] == report.matrix["silver"]["silver"] == 1

    md = impact_markdown(report)
    assert "- changed: 1 buildings (0 lose a label tier, 1 gain one" in md
    assert "Buildings whose changed decision names each item (one building can name several)." in md
    assert "| item | title | in the diff | buildings | losses | gains |" in md
    assert "## Changed buildings (first 1 of 1)" in md
    assert "| line | building | 1.0.0 | 2.0.0 |" in md
    assert "| 1 | B-1 | silver | gold | 2025-01-31 → " in md

    console = Console(record=True, width=200)
    console.print(impact_renderable(report))
    shown = console.export_text()
    assert "Changed buildings (first 1 of 1)" in shown
    assert "buildings" in shown.split("Attribution", 1)[1].splitlines()[2]  # the count column's heading

    svg = ET.fromstring(transition_chart(report))
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "on 3 buildings" in texts
    assert "items responsible for changed decisions (buildings)" in texts

    data = json.loads(json.dumps(report.to_json()))
    assert data["transitions"][0]["subject"] == "B-1"
    assert "organisation" not in data["transitions"][0]
    assert data["attribution"][0]["subjects"] == 1

    for out in (md, shown, texts, json.dumps(data)):
        assert "organisation" not in out.lower()
