"""The impact study decided by SQL: the report of ``ecei_rules.compare.impact``, with every row decided
under both versions by one DuckDB query each.

A population is **prepared** once (:func:`prepare_impact`): each assessment is projected onto each
version's inputs and validated, exactly as the impact study does it (``sql.table_rows``), and the
two tables are written to Parquet in a directory (``old.parquet``, ``new.parquet``), with what the
validation found: the fields ignored and the list entries left out (``old_left_out.parquet``,
``new_left_out.parquet``) and the rows refused (``prepared.json``, which names both versions). The study itself
(:func:`impact_from_parquet`) reads both files and decides every row under both versions, and the
report is the Python study's :class:`~ecei_rules.compare.impact.ImpactReport`, member for member:

* each side is decided by its query over the list inputs the prepared file holds as positional columns (those
  whose longest list is short, see ``sql.write_positions``), where it holds them;
* the matrix, the changed rows and their dates, the errors (refused rows, A007) and the missing
  inputs (per side, the absent inputs of the unknown tiers: the query's ``missing`` columns) are
  counted in SQL;
* the **attribution** is the impact study's own (``ecei_rules.compare.impact``), never written again:
  it reads of the two decisions only their labels, start dates, validity rules and outcomes (and each
  score's threshold and weights, which are the version's), so the changed rows are grouped by those
  columns and the attributor is given, once per group, the two decisions as the query's columns say
  them (a derived value, which the SQL engine refuses, would be the one other thing it reads).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict

import msgspec

from ecei_rules.backends.sql import (
    OUTCOMES,
    PACKED,
    ROW,
    ROW_GROUP_SIZE,
    Column,
    CompiledQuery,
    Refused,
    compile_ruleset,
    is_positional,
    layout_of,
    load_table,
    quoted_path,
    write_parquet,
)
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.compare.impact import (
    LIST_INDEX,
    MAX_IGNORED,
    Attributor,
    ImpactReport,
    Transition,
    attributable,
    bounded_ignored,
    foreign_ids,
    population_items,
)
from ecei_rules.compare.impact import impact as python_impact
from ecei_rules.core.files import FileReadError, file_sha256, read_limited
from ecei_rules.engine.evaluate import Assessment, evaluate, outline
from ecei_rules.engine.plan import FastScore, Plan
from ecei_rules.errors import AssessmentError, InputError, ItemProblem
from ecei_rules.ruleset.dates import validity_span_error
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.subject import resolve as resolve_subject

PREPARED = "prepared.json"
SIDES = ("old", "new")
#: The Parquet files of a prepared directory, each recorded in ``prepared.json`` with its SHA-256.
FILES = tuple(f"{side}{part}.parquet" for side in SIDES for part in ("", "_left_out"))
#: The most ``prepared.json`` may hold (it lists every row refused or unreadable, a line each).
MAX_PREPARED_BYTES = 1024 * 1024 * 1024


class _StoredProblem(TypedDict):
    """A row refused or unreadable as ``prepared.json`` records it: an ``ItemProblem``'s JSON (its ``MEMBERS``), read
    back as one by ``_problem``."""

    line: int
    version: str | None
    code: str
    message: str
    pointer: str | None


class _Prepared(TypedDict):
    """What ``prepared.json`` holds: both versions (version, sha256), the rows, the problems, each file's SHA-256."""

    old: tuple[str, str]
    new: tuple[str, str]
    assessments: Annotated[int, msgspec.Meta(ge=0)]
    unreadable: list[_StoredProblem]
    old_refused: list[_StoredProblem]
    new_refused: list[_StoredProblem]
    files: dict[str, str]


def parquet(path: Path | str) -> str:
    """DuckDB's reading of the Parquet file at ``path`` (any path: written as a quoted SQL string)."""
    return f"read_parquet({quoted_path(path)})"


def _write_facts(target: Path, facts: dict[str, Any]) -> None:
    """``prepared.json`` in ``target``, with the SHA-256 of each of its Parquet files (written before)."""
    facts["files"] = {name: file_sha256(target / name, f"prepared file {name}") for name in FILES}
    (target / PREPARED).write_text(json.dumps(facts), encoding="utf-8")


def prepare_impact(old: Ruleset, new: Ruleset, population: Path | str | Iterable[Any], directory: Path | str,
                   queries: tuple[CompiledQuery, CompiledQuery] | None = None) -> Path:
    """Validate and project ``population`` (a JSON Lines file or raw assessments) for ``old`` and ``new``
    as the impact study does, into ``directory`` (see the module's docstring for its files). Returns the
    directory. ``queries``: both versions compiled already."""
    import duckdb

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    items: list[tuple[int, Any]] = []
    unreadable: list[dict[str, Any]] = []
    for index, data, error in population_items(population):
        if error is not None:
            unreadable.append(error.to_json())
            items.append((index, AssessmentError([])))
        else:
            items.append((index, data))
    facts: dict[str, Any] = {"old": [old.version, old.sha256], "new": [new.version, new.sha256],
                             "assessments": len(items), "unreadable": unreadable}
    connection = duckdb.connect()
    queries = queries or (compile_ruleset(old), compile_ruleset(new))
    for side, query, other in zip(SIDES, queries, (new, old), strict=True):
        ruleset = query.ruleset
        left_out = _LeftOut()
        refused = load_table(connection, query, items, side, foreign_ids(ruleset, other), left_out)
        write_parquet(connection, side, target / f"{side}.parquet")
        facts[side + "_refused"] = [_refusal(r, ruleset) for r in refused if r.diagnostics]
        _write_left_out(connection, left_out, target / f"{side}_left_out.parquet")
    _write_facts(target, facts)
    return target


class _LeftOut(dict[int, tuple[list[str], list[str]]]):
    """What ``sql.table_rows`` finds that projection left out, by row, kept as the study keeps it: the pointers
    ignored bounded as `bounded_ignored` bounds them (at most `MAX_IGNORED` per object, each once, list indices
    as ``-``), the others counted by object in ``more`` (so that it holds what the rows' objects are named by,
    not every member of the population)."""

    def __init__(self) -> None:
        super().__init__()
        self.more: dict[int, tuple[tuple[str, int], ...]] = {}

    def __setitem__(self, row: int, value: tuple[list[str], list[str]]) -> None:
        named, more = bounded_ignored(value[0])
        if more:
            self.more[row] = more
        super().__setitem__(row, (list(named), value[1]))


def _write_left_out(connection: Any, left_out: _LeftOut, path: Path) -> None:
    """The table of what projection left out, by row: the pointers ignored (each once, list indices as
    ``-``, at most `MAX_IGNORED` per object, as the study shows them), how many more each object had
    (``more``), and the ``catalogue:id`` of each list entry left out."""
    handle, name = tempfile.mkstemp(suffix=".jsonl", prefix="ecei-sql-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for row, (ignored, found) in left_out.items():
                more = [{"parent": k, "n": n} for k, n in left_out.more.get(row, ())]
                out.write(json.dumps({"row": row, "ignored": ignored, "found": found, "more": more}) + "\n")
        connection.execute(f"COPY (SELECT * FROM read_json({quoted_path(name)}, format='newline_delimited', columns="
                           "{'row': 'BIGINT', 'ignored': 'VARCHAR[]', 'found': 'VARCHAR[]', "
                           "'more': 'STRUCT(parent VARCHAR, n BIGINT)[]'})) TO "
                           f"{quoted_path(path)} (FORMAT parquet)")
    finally:
        Path(name).unlink(missing_ok=True)


def _refusal(refused: Refused, ruleset: Ruleset) -> dict[str, Any]:
    first = refused.diagnostics[0]
    return {"line": refused.row, "version": ruleset.version, "code": first.code, "message": first.message,
            "pointer": first.pointer}


def copies(directory: Path | str, k: int) -> Path:
    """A prepared population made of ``k`` copies of the one in ``directory`` (rows renumbered; each copy
    decides and is attributed as its original), next to it (made once): for measurements at scale."""
    import duckdb

    source = Path(directory)
    target = source.with_name(source.name + f"-x{k}")
    if (target / PREPARED).exists():
        with contextlib.suppress(InputError):  # made before, and still as made (else made again)
            read_prepared(target)
            return target
    target.mkdir(exist_ok=True)
    facts = read_prepared(source)
    n = facts["assessments"]
    connection = duckdb.connect()
    for side in SIDES:
        for name, column in ((side, ROW), (side + "_left_out", "row")):
            connection.execute(f"COPY ({copied(source / (name + '.parquet'), column, n, k)}) TO "
                               f"{quoted_path(target / (name + '.parquet'))} (FORMAT parquet, "
                               f"ROW_GROUP_SIZE {ROW_GROUP_SIZE})")

    def shift(entries: list[dict[str, Any]], copy: int) -> list[dict[str, Any]]:
        return [dict(e, line=e["line"] + n * copy) for e in entries]

    out: dict[str, Any] = dict(facts, assessments=n * k,
                               unreadable=[e for c in range(k) for e in shift(facts["unreadable"], c)])
    for side in SIDES:
        out[side + "_refused"] = [e for c in range(k) for e in shift(facts[side + "_refused"], c)]
    _write_facts(target, out)
    return target


def copied(path: Path | str, column: str, n: int, k: int) -> str:
    """The query of ``k`` copies of the ``n`` rows of a Parquet file, each copy's ``column`` (the row number)
    shifted by ``n`` times the copy's number, with the file's columns only."""
    quoted = '"' + column.replace('"', '""') + '"'
    return (f'SELECT * EXCLUDE ("ecei:copy") REPLACE ({quoted} + {n} * "ecei:copy" AS {quoted}) FROM '
            f'{parquet(path)}, range({k}) AS copies("ecei:copy")')


def read_prepared(directory: Path | str) -> dict[str, Any]:
    """What preparing ``directory`` found (``prepared.json``), checked: a regular file of at most
    `MAX_PREPARED_BYTES` and of the shape `prepare_impact` writes, and each Parquet file it names still the
    one written then (its SHA-256), so that the study reads what was validated.

    Raises:
        InputError: ``prepared.json`` is missing, unreadable, too large or not of that shape (the message names
            the JSON path of the first member that is not), or a Parquet file is missing or changed since.
    """
    source = Path(directory)
    where = source / PREPARED
    try:
        facts: dict[str, Any] = msgspec.json.decode(read_limited(where, MAX_PREPARED_BYTES, "prepared facts"),
                                                    type=_Prepared)
    except FileReadError as exc:
        raise InputError(f"{where}: {exc.message}") from None
    except msgspec.DecodeError as exc:  # a ValidationError names the JSON path ($.old_refused[3].line)
        raise InputError(f"{where} is not what preparing a population writes: {exc} (prepare it again: "
                         "ecei_rules.backends.sql_impact.prepare_impact)") from None
    files = facts["files"]
    if sorted(files) != sorted(FILES):
        raise InputError(f"{where} names the files {', '.join(sorted(files)) or 'none'}, not "
                         f"{', '.join(sorted(FILES))} (prepare it again)")
    for name in FILES:
        try:
            found = file_sha256(source / name, f"prepared file {name}")
        except FileReadError as exc:
            raise InputError(f"{source}: {exc.message}") from None
        if found != files[name]:
            raise InputError(f"{source / name} changed since it was prepared (its sha256 is {found}, "
                             f"{files[name]} when prepared): prepare the population again")
    return facts


def prepared_facts(old: Ruleset, new: Ruleset, directory: Path | str) -> dict[str, Any]:
    """What preparing ``directory`` found (`read_prepared`), checked to be for ``old`` and ``new``.

    Raises:
        InputError: as `read_prepared`, or the directory was prepared for other versions (or a version file
            changed since).
    """
    source = Path(directory)
    facts = read_prepared(source)
    for side, ruleset in zip(SIDES, (old, new), strict=True):
        if facts[side] != (ruleset.version, ruleset.sha256):
            raise InputError(f"{source} was prepared for {facts['old'][0]} -> {facts['new'][0]}, not "
                             f"{old.version} -> {new.version} (or a version file changed since)")
    return facts


def impact_from_parquet(old: Ruleset, new: Ruleset, directory: Path | str,
                        queries: tuple[CompiledQuery, CompiledQuery] | None = None) -> ImpactReport:
    """The impact study of the population prepared in ``directory`` (:func:`prepare_impact`), decided by SQL:
    the same report as ``ecei_rules.compare.impact.impact`` gives for that population. ``queries``: the two
    versions compiled already (``sql.compile_ruleset``), else they are compiled here.

    Raises:
        InputError: the directory was prepared for other versions (or a version file changed since).
        SqlRefused: a version uses a construct the SQL form does not express.
    """
    import duckdb

    started = time.perf_counter()
    source = Path(directory)
    facts = prepared_facts(old, new, source)
    report = python_impact(old, new, [], jobs=1)  # the study's setup: labels, scale, titles, what the diff names
    queries = queries or (compile_ruleset(old), compile_ruleset(new))
    connection = duckdb.connect()
    connection.execute("SET preserve_insertion_order = false")
    by_python = any(_read_by_python(q) for q in queries)  # the missing inputs read from Python's decisions
    for side, query in zip(SIDES, queries, strict=True):
        table = parquet(source / (side + ".parquet"))
        text = query.sql("duckdb", table, missing=not by_python, layout=layout_of(connection, table))
        connection.execute(f"CREATE TEMP TABLE {side} AS {text}")
    _Study(report, facts, queries, connection, source).run(old, new)
    report.seconds = time.perf_counter() - started
    return report


class _Study:
    """The report's members counted from the two tables ``old`` and ``new`` of a DuckDB connection (decided
    from the population prepared in ``source``)."""

    def __init__(self, report: ImpactReport, facts: dict[str, Any], queries: tuple[CompiledQuery, CompiledQuery],
                 connection: Any, source: Path) -> None:
        self.report, self.facts, self.queries, self.con, self.source = report, facts, queries, connection, source

    def run(self, old: Ruleset, new: Ruleset) -> None:
        report, facts = self.report, self.facts
        report.assessments = facts["assessments"]
        report.jobs = os.cpu_count() or 1
        self.errors()
        for label_a, label_b, count in self.con.execute(
                'SELECT o.label, n.label, count(*) FROM old o JOIN new n USING ("row") WHERE o.error IS NULL AND '
                'n.error IS NULL GROUP BY ALL').fetchall():
            row = report.matrix.setdefault(label_a, dict.fromkeys(report.labels, 0))
            row[label_b] = row.get(label_b, 0) + count
        self.projection(self.source)
        if any(_read_by_python(q) for q in self.queries):
            self.by_python(old, new)
            return
        self.missing()
        self.transitions(old, new)

    def errors(self) -> None:
        """The report's errors, in row order."""
        facts = self.facts
        by_row: dict[int, list[ItemProblem]] = {}
        for entry in facts["unreadable"]:
            by_row.setdefault(entry["line"], []).append(_problem(entry))
        for name in SIDES:
            for entry in facts[name + "_refused"]:
                by_row.setdefault(entry["line"], []).append(_problem(entry))
        versions = [q.ruleset.version for q in self.queries]
        for row, error_a, *dates in self.con.execute(
                'SELECT o."row", o.error, o.valid_from, o.valid_until, o.validity_rule, n.valid_from, n.valid_until, '
                'n.validity_rule FROM old o JOIN new n USING ("row") WHERE o.error IS NOT NULL OR n.error IS NOT '
                'NULL').fetchall():
            side = 0 if error_a is not None else 1  # the study decides the old version first
            first = validity_span_error(*dates[3 * side:3 * side + 3]).diagnostics[0]
            by_row[row] = [ItemProblem(first.code, first.message, index=row, version=versions[side])]
        for row in sorted(by_row):
            self.report.add_errors(by_row[row])  # one assessment in error, with its problems

    def projection(self, source: Path) -> None:
        """The fields ignored and the entries left out, per side, counted from what preparing found (no
        entries left out for a row one version refuses with A007, as the study counts them)."""
        report = self.report
        a007 = 'SELECT "row" FROM old WHERE error IS NOT NULL UNION SELECT "row" FROM new WHERE error IS NOT NULL'
        for i, side in enumerate(SIDES):
            table = parquet(source / (side + "_left_out.parquet"))
            self.ignored(i, table)
            for item, count, lines in self.con.execute(
                    f'SELECT k, count(*), list(DISTINCT "row" ORDER BY "row") FROM (SELECT "row", unnest(found) AS k '
                    f'FROM {table} WHERE "row" NOT IN ({a007})) GROUP BY k ORDER BY k').fetchall():
                report.projected[i][item] = count
                report.projected_lines[i][item] = lines

    def ignored(self, i: int, table: str) -> None:
        """The pointers ignored under side ``i``, as the study counts them (`ImpactReport.add_ignored`): of each
        object, the first `MAX_IGNORED` pointers to appear (by row, then place in the row) named with their
        rows, every other one (and every member the rows did not name, ``more``) counted by object."""
        report = self.report
        parent = "regexp_replace(p, '/[^/]*$', '')"
        rows = self.con.execute(
            f'SELECT p, count(*), {parent} AS parent, min(["row", i]) AS first FROM (SELECT "row", unnest(ignored) AS '
            f'p, generate_subscripts(ignored, 1) AS i FROM {table}) GROUP BY p ORDER BY first').fetchall()
        named: dict[str, int] = {}
        for pointer, count, object_, _ in rows:
            if named.get(object_, 0) < MAX_IGNORED:
                named[object_] = named.get(object_, 0) + 1
                report.add_ignored(i, [pointer])
                report.ignored[i][pointer] = count
            else:
                report.add_ignored(i, (), [(object_, count)])
        columns = [d[0] for d in self.con.execute(f"SELECT * FROM {table} LIMIT 0").description]
        if "more" in columns:  # (not in a population prepared before it was counted)
            for object_, count in self.con.execute(
                    f'SELECT m.parent, sum(m.n) FROM (SELECT "row", unnest(more) AS m FROM {table}) GROUP BY m.parent '
                    'ORDER BY min("row")').fetchall():
                report.add_ignored(i, (), [(object_, int(count))])

    def missing(self) -> None:
        """Per side, the rows decided under both versions whose unknown tiers miss each input."""
        for i, (side, query) in enumerate(zip(SIDES, self.queries, strict=True)):
            if not query.missing:
                continue
            counts = ", ".join(f'count(*) FILTER (WHERE x."missing:{p}")' for p, _ in query.missing)
            other = SIDES[1 - i]
            found = self.con.execute(f'SELECT {counts} FROM {side} x JOIN {other} y USING ("row") WHERE x.error IS '
                                     'NULL AND y.error IS NULL').fetchone()
            assert found is not None
            self.report.missing[i].update({LIST_INDEX.sub("/-", p): n for (p, _), n in zip(query.missing, found,
                                                                                      strict=True) if n})

    def transitions(self, old: Ruleset, new: Ruleset) -> None:
        """Every changed row, attributed by one row of its group (the columns attribution reads)."""
        report = self.report
        changed = attributable(semantic_diff(old, new))
        # what attribution reads of the two decisions: labels, validity rules, whether valid_from moved (and
        # where to, when the diff names valid_from), every outcome; NULLs are one partition (unknown)
        read = ["o.label", "n.label", "o.validity_rule", "n.validity_rule", "o.valid_from IS NOT DISTINCT FROM "
                "n.valid_from", *(["o.valid_from", "n.valid_from"] if "valid_from" in changed["validity"] else []),
                *(f'{alias}."{c.name}"' for alias, q in zip(("o", "n"), self.queries, strict=True)
                  for c in _outcome_columns(q))]
        self.con.execute(f'CREATE TEMP TABLE changed AS SELECT o."row", n.subject, o.label AS old_label, n.label AS '
                         'new_label, o.valid_from AS old_from, n.valid_from AS new_from, o.valid_until AS old_until, '
                         f'n.valid_until AS new_until, min(o."row") OVER (PARTITION BY {", ".join(read)}) AS key '
                         'FROM old o JOIN new n USING ("row") WHERE o.error IS NULL AND n.error IS NULL AND (o.label, '
                         'o.valid_from, o.valid_until) IS DISTINCT FROM (n.label, n.valid_from, n.valid_until)')
        attributor = Attributor(old, new, changed, report.labels)
        sides = [_outcome_columns(q) for q in self.queries]
        columns = ", ".join(f'{alias}."{c.name}"' for alias, side in zip(("o", "n"), sides, strict=True) for c in side)
        causes = {}
        scores = _scores(old), _scores(new)
        for key, *values in self.con.execute(
                'SELECT c.key, o.label, o.valid_from, o.validity_rule, n.label, n.valid_from, n.validity_rule, '
                f'{columns} FROM changed c JOIN old o ON o."row" = c.key JOIN new n ON n."row" = c.key WHERE '
                'c."row" = c.key').fetchall():
            outcomes = values[6:]
            a = _decision(scores[0], values[0:3], self.queries[0].outcomes(zip(sides[0], outcomes[:len(sides[0])],
                                                                              strict=True)))
            b = _decision(scores[1], values[3:6], self.queries[1].outcomes(zip(sides[1], outcomes[len(sides[0]):],
                                                                              strict=True)))
            causes[key] = attributor.explain(a, b)  # type: ignore[arg-type]  # what it reads of a Decision
        subject_key = resolve_subject(new.document).key
        unexplained = 0
        for row, subject, la, lb, fa, fb, ua, ub, key in self.con.execute(
                'SELECT * FROM changed ORDER BY "row"').fetchall():
            found, lost = causes[key]
            report.transitions.append(Transition(row, subject, la, lb, fa, fb, ua, ub, found, subject_key))
            unexplained += lost
        report.unexplained = unexplained


    def by_python(self, old: Ruleset, new: Ruleset) -> None:
        """The missing inputs and the transitions of versions with derived values or numbers a score weighs, or
        criteria whose missing inputs the query's columns would not give (``CompiledQuery.missing_refused``),
        read from the Python engine's decisions of the rows that need them (those decided under both versions
        with an unknown tier, and the changed ones), each validated again from the prepared table: what an
        unknown tier misses through a derived value (where its evaluation went) and a derived value's value
        (which attribution names) are not columns of the query."""
        report = self.report
        unknown = [" OR ".join([f'{alias}."{c.name}" IS NULL' for c in q.columns if c.kind == "tier"] or ["false"])
                   for alias, q in zip(("o", "n"), self.queries, strict=True)]
        rows = self.con.execute(
            f'SELECT o."row", n.subject, o.label, n.label, o.valid_from, n.valid_from, o.valid_until, n.valid_until, '
            f'({unknown[0]}), ({unknown[1]}) FROM old o JOIN new n USING ("row") WHERE o.error IS NULL AND n.error IS '
            f'NULL AND (({unknown[0]}) OR ({unknown[1]}) OR (o.label, o.valid_from, o.valid_until) IS DISTINCT FROM '
            f'(n.label, n.valid_from, n.valid_until)) ORDER BY o."row"').fetchall()
        data = [self.inputs(side, ruleset, [r[0] for r in rows]) for side, ruleset in zip(SIDES, (old, new),
                                                                                          strict=True)]
        attributor = Attributor(old, new, attributable(semantic_diff(old, new)), report.labels)
        subject_key = resolve_subject(new.document).key
        unexplained = 0
        for row, subject, la, lb, fa, fb, ua, ub, *unsure in rows:
            for i, ruleset in enumerate((old, new)):
                if unsure[i]:
                    *_, absent = outline(ruleset, dict(data[i][row]), missing=True)
                    report.missing[i].update(tuple(dict.fromkeys(LIST_INDEX.sub("/-", m) for found in absent
                                                                 for m in found)))
            if (la, fa, ua) != (lb, fb, ub):
                a, b = (evaluate(r, Assessment(data[i][row], r.sha256)) for i, r in enumerate((old, new)))
                found, lost = attributor.explain(a, b)
                report.transitions.append(Transition(row, subject, la, lb, fa, fb, ua, ub, found, subject_key))
                unexplained += lost
        report.unexplained = unexplained

    def inputs(self, side: str, ruleset: Ruleset, rows: list[int]) -> dict[int, Any]:
        """The validated assessments of ``rows`` as the prepared table of ``side`` holds them (absent values
        left out, decimals without the table's trailing zeros), validated again by the version."""
        out: dict[int, Any] = {}
        if not rows:
            return out
        cursor = self.con.execute(f"SELECT * FROM {parquet(self.source / (side + '.parquet'))} WHERE "
                                  f'"{ROW}" IN (SELECT unnest(?))', [rows])
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            item = {name: value for name, value in zip(names, values, strict=True) if not is_positional(name)}
            row = item.pop(ROW)
            validated, problems = ruleset.plan.validator.validate(_plain_value(item))
            assert not problems, problems  # the table holds only what the version's validator accepted
            out[row] = validated
        return out


def _read_by_python(query: CompiledQuery) -> bool:
    """Whether a version has derived values or numbers a score weighs, or criteria whose missing inputs the query's
    columns would not give exactly (``CompiledQuery.missing_refused``; see ``_Study.by_python``)."""
    checked = query.ruleset.plan
    return bool(checked.derived) or any(score.points for score in checked.doc.scores.values()) or \
        bool(query.missing_refused)


def _plain_value(value: Any) -> Any:
    """A value of the prepared table as the validator reads it: absent members left out, decimals normalised."""
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _scores(ruleset: Ruleset) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Each score's threshold and weights, as the evaluator gives them to every decision (the runtime plan's)."""
    plan = Plan(ruleset.plan)
    return {s.id: (s.static["threshold"], dict(plan.scores_weights[s.id])) for s in plan.composites
            if isinstance(s, FastScore)}


def _outcome_columns(query: CompiledQuery) -> list[Column]:
    """The query's columns that hold outcomes: one per tier, group and score, and the criteria's packed ones."""
    return [c for c in query.columns if c.kind in OUTCOMES or c.kind == PACKED]


def _decision(scores: dict[str, tuple[Any, dict[str, Any]]], head: list[Any],
              outcomes: Iterable[tuple[Column, str]]) -> SimpleNamespace:
    """A changed row's decision under one version as the attributor reads a Decision: its label, start,
    validity rule, each outcome by id (``met``, ``not_met``, ``unknown``) and each score's threshold and
    weights (``_scores``)."""
    by_kind: dict[str, list[SimpleNamespace]] = {kind: [] for kind in OUTCOMES}
    for c, found in outcomes:
        item = SimpleNamespace(id=c.id, label=c.id, outcome=found)
        if c.kind == "score":
            item.threshold, item.weights = scores[str(c.id)]
        by_kind[c.kind].append(item)
    return SimpleNamespace(label=head[0], valid_from=head[1], validity_rule=head[2], criteria=by_kind["criterion"],
                           groups=by_kind["group"], scores=by_kind["score"], tiers=by_kind["tier"], derived=())


def _problem(entry: dict[str, Any]) -> ItemProblem:
    return ItemProblem(entry["code"], entry["message"], index=entry["line"], version=entry.get("version"),
                       pointer=entry.get("pointer"))

