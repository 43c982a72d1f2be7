"""Impact projects each assessment onto each version: a list entry naming a catalogue item that the other
version has and this one does not is left out (and counted), not refused."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from ecei_rules.compare.impact import impact
from ecei_rules.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


def _silver() -> dict[str, Any]:
    data = json.loads((ROOT / "examples" / "silver-2016.json").read_text(encoding="utf-8"), parse_float=Decimal)
    assert isinstance(data, dict)
    return data


def test_impact_projects_out_list_entries_naming_removed_catalogue_items() -> None:
    """3.0.0 removed indicators 1.2, 2.2.4 and 5.1 and added 4.7, 4.8 and 4.9 (its catalogue patch).

    Line 1 names none of them; line 2 has an improvement area of 5.1 (removed: left out under 3.0.0); line 3
    one of 4.7 (added: left out under 2.0.0) and one of 1.2 (left out under 3.0.0); line 4 one of 9.9, which
    neither catalogue has: still refused by both versions. Before, lines 2 and 3 were refused by the version
    that lacks the indicator (A004), so only line 1 was decided.
    """
    registry = Registry.shipped()
    old, new = registry.get("ecei-labels", "2.0.0"), registry.get("ecei-labels", "3.0.0")
    area = {"validated": True}
    plain = _silver()
    removed = _silver()
    removed["improvement_areas"] = [*plain["improvement_areas"], {"indicator": "5.1", **area}]
    both = _silver()
    both["improvement_areas"] = [{"indicator": "4.7", **area}, *plain["improvement_areas"],
                                 {"indicator": "1.2", **area}]
    unknown = _silver()
    unknown["improvement_areas"] = [{"indicator": "9.9", **area}]

    report = impact(old, new, [plain, removed, both, unknown])
    assert report.decided == 3
    assert {(e.index, e.version, e.code) for e in report.problems} == {(4, "2.0.0", "A004"), (4, "3.0.0", "A004")}
    assert len(report.errors) == 1  # one assessment in error
    assert report.projected[0] == Counter({"indicators:4.7": 1})
    assert report.projected[1] == Counter({"indicators:5.1": 1, "indicators:1.2": 1})
    assert report.projected_lines[0] == {"indicators:4.7": [3]}
    assert report.projected_lines[1] == {"indicators:5.1": [2], "indicators:1.2": [3]}
    assert report.ignored[1]["/improvement_areas/-/indicator = 5.1"] == 1
    assert report.ignored[0]["/improvement_areas/-/indicator = 4.7"] == 1
    shown = report.to_json()["projection"]["new"]["entries_left_out"]
    assert shown["indicators:5.1"] == {"entries": 1, "lines": [2], "assessments": 1}
    # the projection decides exactly as the assessment without the entry: the same matrix as line 1 twice
    again = impact(old, new, [plain, plain])
    assert impact(old, new, [plain, removed]).matrix == again.matrix
