"""Renderings of an impact report (``ecei_rules.compare.impact``): Markdown, a rich renderable for
terminals, and an SVG chart (the transition heatmap and the items most often responsible).

>>> from rich.console import Console  # doctest: +SKIP
>>> Console().print(impact_renderable(report))  # doctest: +SKIP
>>> impact_markdown(report); transition_chart(report)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from html import escape
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ecei_rules.compare.impact import ONE_SCALE, Cause, ImpactReport
from ecei_rules.render.markdown import code, text


def impact_markdown(report: ImpactReport, *, limit: int = 50) -> str:
    """The report as Markdown: summary, matrix, attribution, projection, changed subjects (named by the
    new version's subject noun: "Changed buildings").

    Whatever came from the rulesets or the assessments (ids, titles, field names, messages) is escaped by
    ``render.markdown``: it cannot split a table row, inject HTML or drive a terminal."""
    o, n = text(report.old.version), text(report.new.version)
    one, many = text(report.subject.noun), text(report.subject.plural)
    lines = [f"# Impact of {text(report.new.methodology)} {o} → {n}", "",
             f"- population: {report.assessments} assessments, {report.decided} decided under both versions, "
             f"{len(report.errors)} in error",
             f"- changed: {len(report.transitions)} {many} ({report.count('loss')} lose a label tier, "
             f"{report.count('gain')} gain one, {report.count('validity')} keep the label with another validity)"
             + (f"; {report.unexplained} unexplained" if report.unexplained else "")
             + _rescale_words(report), "",
             f"## Transitions (rows: {o}, columns: {n})", "",
             "| " + f"{o} \\ {n}" + " | " + " | ".join(text(b) for b in report.labels) + " | total |",
             "|---|" + "---:|" * (len(report.labels) + 1)]
    for a in report.labels:
        row = report.matrix[a]
        cells = [f"**{row[b]}**" if a == b else str(row[b]) for b in report.labels]
        lines.append(f"| {text(a)} | " + " | ".join(cells) + f" | {sum(row.values())} |")
    new_totals = report.totals(1)
    lines += ["| total | " + " | ".join(str(new_totals[b]) for b in report.labels) + f" | {report.decided} |", "",
              "## Attribution", "",
              f"{many[:1].upper() + many[1:]} whose changed decision names each item (one {one} can name several).",
              "", f"| item | title | in the diff | {many} | losses | gains |", "|---|---|---|---:|---:|---:|"]
    for key, count, lo, ga in report.attribution():
        lines.append(f"| {code(key)} | {text(report.titles.get(key, ''))} | {text(report.diff_kinds.get(key, ''))} "
                     f"| {count} "
                     f"| {lo} | {ga} |")
    lines += ["", "## Projection", "", "| version | ignored (not declared) | missing (left a tier unknown) |",
              "|---|---|---|"]
    for i, version in enumerate((o, n)):
        lines.append(f"| {version} | {_counts(report.ignored[i])} | {_counts(report.missing[i])} |")
    lines += ["", f"## Changed {many} (first {min(limit, len(report.transitions))} of "
                  f"{len(report.transitions)})", "",
              f"| line | {one} | {o} | {n} | valid until ({o} → {n}) | attribution |",
              "|---:|---|---|---|---|---|"]
    for t in report.transitions[:limit]:
        lines.append(f"| {t.index} | {text(t.subject or '')} | {text(t.old_label)} | {text(t.new_label)} | "
                     f"{_date(t.old_valid_until)} → {_date(t.new_valid_until)} | "
                     f"{text(describe_causes(t.causes))} |")
    if report.errors:
        lines += ["", f"## Errors ({len(report.errors)})", ""]
        lines += [f"- {text(str(e))}" for e in report.errors[:50]]
    return "\n".join(lines) + "\n"


def _rescale_words(report: ImpactReport) -> str:
    """Across a rescale: how the labels compare, and the transitions that are neither gains nor losses."""
    scale = report.labels_scale
    if scale.basis == ONE_SCALE:
        return ""
    return (f"\n- labels: {scale.basis}; {report.count('same')} keep the corresponding label, "
            f"{report.count('not comparable')} not comparable")


def _date(d: dt.date | None) -> str:
    return d.isoformat() if d is not None else "—"


def _counts(counter: Counter[str], top: int = 8) -> str:
    if not counter:
        return "—"
    shown = ", ".join(f"{code(k)} ({v})" for k, v in counter.most_common(top))
    return shown + (f" and {len(counter) - top} more" if len(counter) > top else "")


def describe_causes(causes: Iterable[Cause]) -> str:
    """Causes in one line, grouped by the tiers and the group or score they act through, e.g.
    ``bronze, silver via eligibility: EC1 absent → not_met; gold via gold_score: 4.7 absent → met, 4.1.1 met
    (weight 1 → 2)``."""
    tiers_of: dict[tuple[str, str, str | None], list[str]] = {}
    first: dict[tuple[str, str, str | None], Cause] = {}
    for c in causes:
        key = (c.section, c.id, c.via)
        tiers_of.setdefault(key, [])
        if c.tier not in tiers_of[key]:
            tiers_of[key].append(c.tier)
        first.setdefault(key, c)
    groups: dict[tuple[tuple[str, ...], str | None], list[str]] = {}
    for key, c in first.items():
        groups.setdefault((tuple(tiers_of[key]), c.via if c.section == "criteria" else None), []).append(_one(c))
    parts = []
    for (tiers, via), items in groups.items():
        head = ", ".join(tiers) + (f" via {via}" if via else "")
        parts.append(f"{head}: {', '.join(items)}")
    return "; ".join(parts)


#: How a cause of these sections reads (the others: below, in `_one`).
_WORDS = {
    "validity": "rule {c.id} ({c.old} → {c.new})",
    "bands": "band {c.id} class {c.via}: bounds {c.old} → {c.new}",
    "derived": "derived {c.id} ({c.via}) {c.old} → {c.new}",
    "parameters": "parameter {c.id} {c.old} → {c.new}",
    "labels": "rescale {c.old} → {c.new} (labels_from)",
}


def _one(c: Cause) -> str:
    if c.section in _WORDS:
        return _WORDS[c.section].format(c=c)
    name = c.id if c.section == "criteria" else f"{c.section[:-1]} {c.id}"
    if c.section != "criteria" and c.via:
        name += f" (requirement {c.via})"
    if c.weight is not None and c.old == c.new:
        return f"{name} {c.old} (weight {c.weight[0]} → {c.weight[1]})"
    return f"{name} {c.old} → {c.new}"


def _style(label: str) -> str:
    """No label in red, a label in green (the styles know no methodology's label names)."""
    return "bold red" if label == "none" else "bold green"


def impact_renderable(report: ImpactReport, *, limit: int = 20, top: int = 15) -> Group:
    """A rich renderable of an impact report: summary, matrix, attribution, projection, changed subjects."""
    parts: list[Any] = [_summary(report), _matrix(report), _attribution(report, top), _projection(report)]
    if report.transitions and limit > 0:
        parts.append(_changes(report, limit))
    parts.extend(_errors(report))
    return Group(*parts)


def _summary(report: ImpactReport) -> Panel:
    o, n = report.old.version, report.new.version
    head = Text()
    head.append(f"{report.new.methodology} {o} → {n}", style="bold")
    head.append(f"  ({report.old.sha256[:12]} → {report.new.sha256[:12]})\n", style="dim")
    head.append(f"{report.assessments:,} assessments, {report.decided:,} decided under both versions, "
                f"{len(report.errors):,} in error; {report.seconds:.1f} s with {report.jobs} job(s)\n")
    head.append(f"{len(report.transitions):,} decisions change: ")
    head.append(f"{report.count('loss'):,} lose", style="red")
    head.append(", ")
    head.append(f"{report.count('gain'):,} gain", style="green")
    head.append(f", {report.count('validity'):,} keep the label with another validity")
    if report.unexplained:
        head.append(f"; {report.unexplained:,} unexplained", style="bold red")
    head.append(_rescale_words(report))
    return Panel(head, title="impact", expand=False)


def _matrix(report: ImpactReport) -> Table:
    o, n = report.old.version, report.new.version
    matrix = Table(title=f"Transitions (rows {o}, columns {n})", title_justify="left")
    matrix.add_column(f"{o} \\ {n}", style="bold")
    for b in report.labels:
        matrix.add_column(b, justify="right", style=_style(b))
    matrix.add_column("total", justify="right")
    for a in report.labels:
        row = report.matrix[a]
        cells: list[Text | str] = []
        for b in report.labels:
            way = report.direction(a, b)
            style = "bold" if a == b else ("red" if way == -1 else "green" if way == 1 else "") if row[b] else "dim"
            cells.append(Text(f"{row[b]:,}", style=style))
        matrix.add_row(Text(a, style=_style(a)), *cells, f"{sum(row.values()):,}")
    totals = report.totals(1)
    matrix.add_row("total", *[f"{totals[b]:,}" for b in report.labels], f"{report.decided:,}", style="dim")
    return matrix


def _attribution(report: ImpactReport, top: int) -> Table | Text:
    rows = report.attribution()
    if not rows:
        if report.unexplained:  # changes, none of them attributed to an item
            return Text(f"no item named: {report.unexplained:,} changed decisions unexplained", style="bold red")
        return Text("no decision changes", style="green")
    attribution = Table(title="Attribution: items named by changed decisions", title_justify="left")
    for col, justify in (("item", "left"), ("title", "left"), ("in the diff", "left"), (report.subject.plural, "right"),
                         ("losses", "right"), ("gains", "right")):
        attribution.add_column(col, justify=justify)  # type: ignore[arg-type]
    for key, count, lo, ga in rows[:top]:
        attribution.add_row(key, report.titles.get(key, ""), report.diff_kinds.get(key, ""), f"{count:,}",
                            f"{lo:,}", f"{ga:,}")
    if len(rows) > top:
        attribution.caption = f"and {len(rows) - top} more item(s)"
    return attribution


def _projection(report: ImpactReport) -> Table:
    projection = Table(title="Projection onto each version's inputs", title_justify="left")
    projection.add_column("version")
    projection.add_column("ignored (not declared): assessments")
    projection.add_column("missing (left a tier unknown): assessments")
    for i, version in enumerate((report.old.version, report.new.version)):
        projection.add_row(version, _plain_counts(report.ignored[i]), _plain_counts(report.missing[i]))
    return projection


def _changes(report: ImpactReport, limit: int) -> Table:
    changes = Table(title=f"Changed {report.subject.plural} (first {min(limit, len(report.transitions))} of "
                          f"{len(report.transitions):,})", title_justify="left")
    for col in ("line", report.subject.noun, report.old.version, report.new.version, "valid until", "attribution"):
        changes.add_column(col, overflow="fold")
    for t in report.transitions[:limit]:
        changes.add_row(str(t.index), t.subject or "", Text(t.old_label, _style(t.old_label)),
                        Text(t.new_label, _style(t.new_label)),
                        f"{_date(t.old_valid_until)} → {_date(t.new_valid_until)}", describe_causes(t.causes))
    return changes


def _errors(report: ImpactReport) -> list[Text]:
    parts = [Text(str(e), style="red") for e in report.errors[:10]]
    if len(report.errors) > 10:
        parts.append(Text(f"... and {len(report.errors) - 10} more error(s)", style="red"))
    return parts


def _plain_counts(counter: Counter[str], top: int = 6) -> str:
    if not counter:
        return "—"
    shown = "\n".join(f"{k}: {v:,}" for k, v in counter.most_common(top))
    return shown + (f"\nand {len(counter) - top} more" if len(counter) > top else "")


# -- the chart ------------------------------------------------------------------------------------

_SECTION_SHORT = {"criteria": "", "groups": "group ", "scores": "score ", "tiers": "tier ", "validity": "rule "}


def transition_chart(report: ImpactReport, *, top: int = 20) -> str:
    """An SVG: the transition heatmap (rows old, columns new, colour by row share) and the items most
    often responsible for a changed decision (bars split into losses, gains and validity-only)."""
    labels = report.labels
    k = len(labels)
    cell = 74.0
    left, head = 118.0, 126.0
    grid_w = k * cell
    bars_x = left + grid_w + 150
    bar_w = 330
    attribution = report.attribution()[:top]
    rows = max(len(attribution), 1)
    bar_h = 24
    height = max(head + k * cell + 130, head + rows * bar_h + 60)
    width = bars_x + bar_w + 310
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    title = (f"{report.new.methodology}: impact of {report.old.version} → {report.new.version} on "
             f"{report.decided:,} {report.subject.plural}")
    out.append(_text(24, 34, title, size=20, weight="bold"))
    sub = (f"{len(report.transitions):,} decisions change: {report.count('loss'):,} lose a tier, "
           f"{report.count('gain'):,} gain one, {report.count('validity'):,} keep the label with another validity")
    out.append(_text(24, 58, sub, size=13, fill="#444444"))
    # heatmap
    out.append(_text(left + grid_w / 2, head - 34, f"new label ({report.new.version})", size=13, anchor="middle",
                     weight="bold"))
    out.append(f'<text x="{left - 92}" y="{head + grid_w / 2}" font-size="13" font-weight="bold" '
               f'text-anchor="middle" transform="rotate(-90 {left - 92} {head + grid_w / 2})">'
               f'old label ({escape(report.old.version)})</text>')
    totals = report.totals(0)
    for j, b in enumerate(labels):
        out.append(_text(left + j * cell + cell / 2, head - 10, b, size=12, anchor="middle"))
    for i, a in enumerate(labels):
        y = head + i * cell
        out.append(_text(left - 8, y + cell / 2 + 4, a, size=12, anchor="end"))
        for j, b in enumerate(labels):
            x = left + j * cell
            n = report.matrix.get(a, {}).get(b, 0)
            share = n / totals[a] if totals.get(a) else 0.0
            colour = _blend(share, i == j, report.direction(a, b))
            stroke = ' stroke="#222222" stroke-width="2"' if i == j else ' stroke="#ffffff" stroke-width="1"'
            out.append(f'<rect class="cell" data-old="{escape(a)}" data-new="{escape(b)}" data-count="{n}" x="{x}" '
                       f'y="{y}" width="{cell}" height="{cell}" fill="{colour}"{stroke}/>')
            ink = "#ffffff" if share > 0.55 else "#111111" if n else "#9a9a9a"
            out.append(_text(x + cell / 2, y + cell / 2 - 2, f"{n:,}", size=15, anchor="middle", weight="bold",
                             fill=ink))
            if n:
                shown = f"{share:.1%}" if share < 0.01 else f"{share:.0%}"
                out.append(_text(x + cell / 2, y + cell / 2 + 16, shown, size=11, anchor="middle", fill=ink))
    legend_y = head + k * cell + 26
    out.append(_text(left - 92, legend_y, f"colour: share of the row (the old label's {report.subject.plural});",
                     size=11, fill="#444444"))
    out.append(_text(left - 92, legend_y + 16, "outlined: unchanged; red: a lower label; green: a higher one",
                     size=11, fill="#444444"))
    for s, share in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        x = left - 92 + s * 44
        swatch = _blend(share, False, None)
        out.append(f'<rect x="{x}" y="{legend_y + 26}" width="44" height="12" fill="{swatch}" stroke="#cccccc"/>')
        out.append(_text(x + 22, legend_y + 52, f"{share:.0%}", size=10, anchor="middle", fill="#444444"))
    # bars
    out.append(_text(bars_x, head - 40, f"items responsible for changed decisions ({report.subject.plural})", size=13,
                     weight="bold"))
    for i, (name, colour) in enumerate((("loss", "#c0392b"), ("gain", "#27ae60"), ("validity only", "#7f8c8d"))):
        x = bars_x + i * 110
        out.append(f'<rect x="{x}" y="{head - 28}" width="14" height="14" fill="{colour}"/>')
        out.append(_text(x + 20, head - 16, name, size=11, fill="#333333"))
    peak = max((n for _, n, _, _ in attribution), default=1)
    for r, (key, n, lo, ga) in enumerate(attribution):
        y = head + r * bar_h
        section, ident = key.split(":", 1)
        label = f"{_SECTION_SHORT.get(section, '')}{ident}"
        out.append(_text(bars_x - 8, y + 16, label, size=12, anchor="end", weight="bold"))
        x = float(bars_x)
        for part, colour in ((lo, "#c0392b"), (ga, "#27ae60"), (n - lo - ga, "#7f8c8d")):
            w = bar_w * part / peak
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="{colour}"/>')
                x += w
        caption = f"{n:,}  {report.titles.get(key, '')}"
        out.append(_text(x + 6, y + 16, caption[:62] + ("…" if len(caption) > 62 else ""), size=11,
                         fill="#333333"))
    if not attribution:
        out.append(_text(bars_x, head + 16, "no decision changes", size=12, fill="#444444"))
    out.append(_text(24, height - 14, f"{report.old.ref} sha256 {report.old.sha256[:12]} · {report.new.ref} sha256 "
                     f"{report.new.sha256[:12]} · {len(report.errors)} assessment(s) in error", size=10,
                     fill="#777777"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start", weight: str = "normal",
          fill: str = "#111111") -> str:
    return (f'<text x="{x:g}" y="{y:g}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{fill}">{escape(text)}</text>')


def _blend(share: float, diagonal: bool, direction: int | None) -> str:
    """White to a hue by share: blue on the diagonal, the legend and what does not compare (the same label
    mapped, or labels across a rescale without a mapping), red for losses, green for gains."""
    if diagonal or not direction:
        hue = (31, 84, 153)
    elif direction < 0:
        hue = (192, 57, 43)
    else:
        hue = (39, 174, 96)
    share = max(0.0, min(1.0, share))
    weight = 0.08 + 0.92 * share if share > 0 else 0.0
    r, g, bl = (round(255 + (c - 255) * weight) for c in hue)
    return f"#{r:02x}{g:02x}{bl:02x}"
