"""The semantic diff as Markdown, written once.

``change_sections`` renders each section that changed as one table, a row per change: what
changed, the old and the new value, and whether it can alter a decision (with its effect on the
assessment schema). ``summary_rows`` says which versions are compared and what the diff amounts
to. ``ecei-rules diff --format markdown`` prints both as a standalone document (``diff_markdown``);
the docs site's changes pages (``render.docs.changes_page``) wrap the same rows with links to the
version pages and the site's navigation.

A cell shows an item (a criterion, a parameter, an input...) in the form of its section first (a
parameter's value and unit, a criterion's title and condition) and every other field of the item
after it in small print, so no field of it is left out; prose is cut at 120 characters,
conditions, lists and mappings are shown whole. Every value goes through ``render.markdown``'s
escaping, which is safe in a terminal and in a browser alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ecei_rules.compare.bump import declared_bump
from ecei_rules.compare.diff import SECTIONS, Change, Diff
from ecei_rules.render.markdown import code, cut, show, small, table, text, value_range
from ecei_rules.ruleset.load import Ruleset

#: The columns of every section's table.
CHANGE_HEAD = ("change", "old", "new", "decides")
#: What a diff without changes says instead of tables.
NO_CHANGE = "No semantic change."
#: The longest prose shown for one value (characters).
_PROSE = 120

#: The fields that make an item's main line, by section (the others follow in small print).
_MAIN = {
    "criteria": ("title", "when"),
    "parameters": ("value", "unit"),
    "catalogues": ("title", "type"),
    "inputs": ("type", "required", "description"),
    "metadata": ("body", "date"),
    "tiers": ("title", "requires"),
    "groups": ("title", "all_of"),
    "validity": ("title", "labels", "when", "valid_until"),
    "scores": ("title", "threshold"),
}
#: Fields and attributes that hold conditions: shown whole, as code.
_EXPRESSIONS = frozenset({"when", "valid_until", "expression", "checks"})

Frame = Callable[[Sequence[str], list[list[str]]], list[str]]


# -- cells ------------------------------------------------------------------------------------


def _value(key: str, value: Any) -> str:
    """One field of an item: a condition as code, prose cut, lists and mappings whole."""
    if key in _EXPRESSIONS:
        return code(show(value))
    return text(cut(value, _PROSE) if isinstance(value, str) else show(value))


def _fields(value: Mapping[str, Any], keys: Sequence[str]) -> str:
    return "; ".join(f"{text(k)}: {_value(k, value[k])}" for k in keys)


def _input_line(value: Mapping[str, Any]) -> tuple[str, set[str]]:
    head = ("required " if value.get("required") else "optional ") + str(value.get("type", ""))
    bounds = value_range(value.get("minimum"), value.get("maximum"))
    head += f", {bounds}" if bounds else ""
    description = small(text(cut(str(value["description"]), _PROSE))) if value.get("description") else ""
    return text(head) + description, {"type", "required", "minimum", "maximum", "description"}


def _parameter_line(value: Mapping[str, Any]) -> tuple[str, set[str]]:
    shown = value["value"]
    if isinstance(shown, (list, tuple)):  # told by its length; the items follow with the other fields
        return f"**{len(shown)} items**", set()
    unit = f" {text(value['unit'])}" if value.get("unit") else ""
    return f"**{text(show(shown))}**{unit}", {"value", "unit"}


def _main_line(section: str, value: Mapping[str, Any]) -> tuple[str, set[str]]:
    """An item's main line in the form of its section, and the fields it shows."""
    if section == "inputs":
        return _input_line(value)
    if section == "parameters" and "value" in value:
        return _parameter_line(value)
    if section == "criteria" and "when" in value:
        return text(value.get("title", "")) + "<br>" + code(value["when"]), {"title", "when"}
    if section == "catalogues" and "title" in value:
        kind = f" ({code(value['type'])})" if "type" in value else ""
        return text(cut(str(value["title"]), _PROSE)) + kind, {"title", "type"}
    keys = [k for k in _MAIN.get(section, ()) if k in value] or list(value)
    return _fields(value, keys), set(keys)


def _item_cell(section: str, ident: str, value: Mapping[str, Any]) -> str:
    """A whole item as one cell: its main line, then every other field in small print (but its id, the row's)."""
    main, shown = _main_line(section, value)
    if value.get("id") == ident:
        shown.add("id")
    return main + small(_fields(value, [k for k in value if k not in shown]))


def _long_list_cell(value: Sequence[Any], other: Sequence[Any]) -> str:
    """A long list: its length and the items only this side has, then the whole list in small print."""
    gone = [str(v) for v in value if v not in other]
    word = "only here" if gone else "nothing else"
    head = f"{len(value)} items; {word}" + (": " + ", ".join(code(g) for g in gone) if gone else "")
    return head + small(text(show(value)))


def _cell(change: Change, value: Any, other: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) and isinstance(other, (list, tuple)) and len(value) + len(other) > 6:
        return _long_list_cell(value, other)
    if isinstance(value, Mapping):
        return _item_cell(change.section, change.id, value)
    if change.attribute in _EXPRESSIONS:
        return code(show(value))
    return text(cut(show(value), _PROSE))


# -- rows and tables --------------------------------------------------------------------------


def _is_weight(change: Change) -> bool:
    return change.section == "scores" and bool(change.attribute and change.attribute.startswith("weight of "))


def _row(c: Change) -> list[str]:
    what = f"**{c.kind}** {code(c.id)}"
    if c.attribute and c.attribute != c.id:
        what += f" {text(c.attribute)}"
    decides = ("**yes**" if c.decides else "no") + (small(c.schema) if c.schema != "none" else "")
    return [what, _cell(c, c.old, c.new), _cell(c, c.new, c.old), decides]


def _weight_rows(changes: Sequence[Change]) -> list[list[str]]:
    """The changed weights of a score, one row per (score, old weight, new weight) with its criteria."""
    weights: dict[tuple[str, str, str], list[str]] = {}
    for c in changes:
        key = (c.id, show(c.old) if c.old is not None else "—", show(c.new) if c.new is not None else "—")
        weights.setdefault(key, []).append(str(c.attribute).removeprefix("weight of "))
    return [[f"**changed** {code(sid)} weight of {len(ids)} criteria" + small(", ".join(text(i) for i in ids)),
             text(old), text(new), "**yes**"] for (sid, old, new), ids in weights.items()]


def change_rows(changes: Sequence[Change]) -> list[list[str]]:
    """The rows of one section's table (cells are Markdown): changed weights of a score grouped first."""
    return _weight_rows([c for c in changes if _is_weight(c)]) + [_row(c) for c in changes if not _is_weight(c)]


def change_sections(diff: Diff, *, anchors: bool = False, frame: Frame = table) -> list[str]:
    """Each section that changed, in the order of ``SECTIONS``: a heading (with an explicit ``{#section}`` id
    if ``anchors``) and its table, laid out by ``frame``; ``NO_CHANGE`` if nothing changed."""
    if not diff.changes:
        return [NO_CHANGE, ""]
    lines: list[str] = []
    for section in SECTIONS:
        changes = diff.section(section)
        if changes:
            lines += [f"## {section.capitalize()}" + (f" {{#{section}}}" if anchors else ""), ""]
            lines += frame(CHANGE_HEAD, change_rows(changes))
    return lines


# -- what is compared -------------------------------------------------------------------------


def _version_cell(ruleset: Ruleset, version: Callable[[str], str]) -> str:
    return (f"{version(ruleset.version)}, effective {ruleset.document.effective_from.isoformat()}, "
            f"sha256 {code(ruleset.sha256[:16])}")


def summary_rows(diff: Diff, *, version: Callable[[str], str] = text) -> list[list[str]]:
    """The versions compared (each shown by ``version``), the declared bump, the input-schema effect and
    the number of changes by section (each linked to its section's heading)."""
    counts = ", ".join(f"[{section}](#{section}) {len(diff.section(section))}" for section in SECTIONS
                       if diff.section(section))
    return [
        ["old", _version_cell(diff.old, version)],
        ["new", _version_cell(diff.new, version)],
        ["declared bump", f"**{declared_bump(diff.old.version, diff.new.version)}**"],
        ["input schema", f"**{diff.schema_effect}**" + small(
            "none: identical; compatible: only optional fields added or ranges widened; breaking: an assessment "
            "valid before may be rejected")],
        ["changes", f"{len(diff.changes)}, of which **{len(diff.decision_changes)}** can alter a decision"
                    + small(counts)],
    ]


def diff_title(diff: Diff) -> str:
    """``ecei-labels: 2.0.0 → 3.0.0`` (Markdown)."""
    return f"{text(diff.new.methodology)}: {text(diff.old.version)} → {text(diff.new.version)}"


def about(diff: Diff) -> tuple[str, str] | None:
    """What the new version says about itself: a heading and its description (Markdown), if it has one."""
    description = diff.new.document.description
    return (f"What {text(diff.new.version)} says about itself", text(description)) if description else None


def diff_markdown(diff: Diff) -> str:
    """The semantic diff as a standalone Markdown document (for a pull request or a notice): the versions
    compared, what the new one says about itself, and one table per section that changed."""
    lines = [f"# {diff_title(diff)}", "", *table(["", ""], summary_rows(diff))]
    said = about(diff)
    if said is not None:
        lines += [f"> **{said[0]}:** {said[1]}", ""]
    return "\n".join(lines + change_sections(diff))
