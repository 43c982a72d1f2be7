"""The registry: every methodology and version under a rulesets directory, which version
answers a request (the version in force on a date, an exact pin, a semver range), and the
checks that keep a methodology's history trustworthy (lineage, published locks).

A rulesets directory holds one folder per methodology and one file per version::

    rulesets/ecei-labels/1.0.0.yaml ... 3.0.1.yaml

The shipped rulesets travel inside the installed package (see `shipped_rulesets`).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
import json
import os
import re
import threading
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import semver

from ecei_rules.core.files import FileReadError, read_limited, replace_atomically, unusable_name
from ecei_rules.core.pointers import pointer_join
from ecei_rules.engine.decision import Resolution
from ecei_rules.errors import Diagnostic, ResolutionError, RulesetError, did_you_mean
from ecei_rules.ruleset.inputs import plain_date
from ecei_rules.ruleset.load import HASH_SCHEME, ParseCache, Ruleset, _load_raw, load_ruleset
from ecei_rules.ruleset.model import RulesetDocument, SelectedBy

LOCK_FILE = "published.lock.json"
OFFICIAL = frozenset({"published"})
#: How to decide under a draft or a withdrawn version anyway (a simulation), as the messages that refuse one say.
SIMULATE_HINT = ("'ecei-rules evaluate --simulate', or give the version's file, '--ruleset FILE', to a command that "
                 "takes one; in Python, allow_unpublished=True")
#: the statuses a version may have, as the document model declares them
STATUSES: frozenset[str] = frozenset(typing.get_args(RulesetDocument.model_fields["status"].annotation))
_REF = re.compile(r"^(?P<methodology>[a-z][a-z0-9-]*)(?:@(?P<spec>[^@\s]+))?$")
#: A methodology id: the name of its folder, never a path.
METHODOLOGY_ID = re.compile(r"[a-z][a-z0-9-]{0,63}")
#: The longest version spec read (a version, ``^2``, ``>=1.1.0,<2.0.0``), as `check_version` bounds a version.
MAX_SPEC = 64


def check_methodology_id(methodology: str) -> str:
    """``methodology`` when it is a plain id (``ecei-labels``); a ResolutionError for anything else
    (a path, ``..``, an absolute name): a registry only ever looks inside its own folders."""
    if not isinstance(methodology, str) or METHODOLOGY_ID.fullmatch(methodology) is None:
        shown = repr(methodology)[:80]
        raise ResolutionError(f"{shown} is not a methodology id (lower-case letters, digits and '-', starting "
                              "with a letter, e.g. energy-label)")
    return methodology


def check_version(version: str) -> str:
    """``version`` when it is a semantic version (``3.0.1``); a ResolutionError for anything else."""
    if not isinstance(version, str) or len(version) > 64 or not semver.Version.is_valid(version):
        raise ResolutionError(f"{repr(version)[:80]} is not a version (a semantic version such as 3.0.1)")
    return version


def parse_reference(ref: str) -> tuple[str, str | None]:
    """Split ``ecei-labels@^2`` into (methodology, version spec); the spec may be absent.

    A reference is exact text: one with spaces or a line break around it (``3.0.1\\n``), or a spec longer
    than `MAX_SPEC` characters, is a ResolutionError, as is anything that is not a reference."""
    m = _REF.fullmatch(ref) if isinstance(ref, str) else None
    if not m:
        shown = repr(ref)[:80]
        if isinstance(ref, str) and ref != ref.strip() and _REF.fullmatch(ref.strip()):
            raise ResolutionError(f"{shown} is not a ruleset reference: it has spaces or a line break around it "
                                  f"(a reference is exact text; write {ref.strip()[:80]!r})")
        raise ResolutionError(f"{shown} is not a ruleset reference; write methodology@version, e.g. "
                              "energy-label@2.0.0, energy-label@^2 or energy-label@>=1.1.0,<2.0.0")
    spec = m["spec"]
    if spec is not None and len(spec) > MAX_SPEC:
        raise ResolutionError(f"{spec[:40]!r}... ({len(spec)} characters) is not a version nor a version range "
                              f"(at most {MAX_SPEC} characters)")
    return m["methodology"], spec


def matches(version: str, spec: str) -> bool:
    """Whether a version satisfies a spec: exact (2.0.0), caret (^2, ^2.1), tilde (~2.1) or comparisons.

    A spec that is not one (empty, longer than `MAX_SPEC` characters, with spaces around it) is a
    ResolutionError."""
    v = semver.Version.parse(version)
    if not isinstance(spec, str) or not spec or len(spec) > MAX_SPEC or spec != spec.strip():
        raise ResolutionError(f"{repr(spec)[:80]} is not a version range (e.g. ^2, ^2.1, ~2.1.0 or >=1.1.0,<2.0.0, "
                              f"at most {MAX_SPEC} characters, without spaces around it)")
    if semver.Version.is_valid(spec):
        return v == semver.Version.parse(spec)
    if spec[0] in "^~":
        parts = [int(p) for p in spec[1:].split(".")] if re.fullmatch(r"\d+(\.\d+){0,2}", spec[1:]) else None
        if parts is None:
            raise ResolutionError(f"'{spec}' is not a version range (e.g. ^2, ^2.1, ~2.1.0)")
        base = semver.Version(*(parts + [0] * (3 - len(parts))))
        if spec[0] == "^":
            upper = base.bump_major() if base.major or len(parts) == 1 else base.bump_minor()
        else:
            upper = base.bump_minor() if len(parts) > 1 else base.bump_major()
        return base <= v < upper
    try:
        return all(v.match(part.strip()) for part in spec.split(","))
    except ValueError:
        raise ResolutionError(f"'{spec}' is not a version range (e.g. ^2, >=1.1.0,<2.0.0)") from None


def shipped_rulesets() -> Path:
    """The rulesets directory shipped with the package (or the repository's, in a checkout)."""
    packaged = resources.files("ecei_rules") / "_rulesets"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "rulesets"
    if checkout.is_dir():
        return checkout
    raise ResolutionError("the shipped rulesets are missing from this installation; reinstall ecei-rules")


def _is_semver(text: str) -> bool:
    return semver.Version.is_valid(text)


@dataclass(eq=False)
class Registry:
    """Versions of methodologies under one directory; loads each version once, on demand.

    A registry may be shared by threads: loading is serialised by the registry's own lock, and
    a version, once loaded, is an immutable plan that any number of threads may decide with.
    `Registry.shipped` hands out one registry of the shipped rulesets, shared by every caller,
    so each shipped version is read and compiled once per process.
    """

    root: Path
    #: the one registry of the shipped rulesets (see `shipped`), owned by the class
    _shipped: typing.ClassVar[Registry | None] = None
    _shipped_lock: typing.ClassVar[threading.Lock] = threading.Lock()
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _cache: dict[tuple[str, str], Ruleset] = field(default_factory=dict, repr=False)
    _parses: ParseCache = field(default_factory=ParseCache, repr=False)
    # versions by methodology, with the folder's entries they were listed from
    _listed: dict[str, tuple[tuple[str, ...], list[str]]] = field(default_factory=dict, repr=False)
    # (status, effective_from) of versions read but not built (to find the version in force)
    _headers: dict[tuple[str, str], tuple[str, dt.date]] = field(default_factory=dict, repr=False)
    # each version's selected_by (None: chosen by assessed_on alone), read with its header
    _selectors: dict[tuple[str, str], SelectedBy | None] = field(default_factory=dict, repr=False)
    # whether a methodology's versions choose by selected_by, with the listing it was found in
    _selecting: dict[tuple[str, bool], tuple[object, bool]] = field(default_factory=dict, repr=False)
    # the versions that matched their lock entry, marked published (what get hands out)
    _published: dict[tuple[str, str], Ruleset] = field(default_factory=dict, repr=False)
    # each methodology's lock as read (version -> sha256), with the stamp of the file it was read from
    _locks: dict[str, tuple[tuple[int, int] | None, dict[str, str]]] = field(default_factory=dict, repr=False)
    # the only methodology, with the root's entries it was found among (see default_methodology)
    _only: tuple[tuple[str, ...], str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)  # a folder given as text, as most callers write it, works the same

    @classmethod
    def shipped(cls) -> Registry:
        """The registry of the rulesets shipped with the package: one registry, shared by every
        caller (``Registry.shipped() is Registry.shipped()``), so a version is loaded once and
        every later decision costs what `evaluate` costs."""
        shared = Registry._shipped
        if shared is None or type(shared) is not cls:
            with Registry._shipped_lock:
                shared = Registry._shipped
                if shared is None or type(shared) is not cls:
                    shared = Registry._shipped = cls(shipped_rulesets())
        return shared

    def methodologies(self) -> list[str]:
        """The methodology ids (folder names) in this registry: the folders named as an id is (`METHODOLOGY_ID`)
        that hold a version. Any other folder (``.git``, ``.hypothesis``, ``__pycache__``, ``Old versions``)
        is not a methodology, and is not read (`strays` names those that hold what looks like versions)."""
        return sorted(p.name for p in self._root_entries()
                      if METHODOLOGY_ID.fullmatch(p.name) and p.is_dir() and any(self._files(p.name)))

    def strays(self) -> list[str]:
        """The folders of this registry that hold files named as versions are (``1.0.0.yaml``) but are not
        read, their names not being methodology ids (hidden folders, named with a dot first, left out)."""
        return sorted(p.name for p in self._root_entries()
                      if not METHODOLOGY_ID.fullmatch(p.name) and not p.name.startswith(".") and p.is_dir()
                      and any(_is_semver(f.stem) for f in p.glob("*.yaml")))

    def _root_entries(self) -> list[Path]:
        """The entries of the root folder; a ResolutionError naming it when it cannot be listed (it does not
        exist, it is a file, it may not be read, its name holds a NUL byte)."""
        try:
            return list(self.root.iterdir())
        except (OSError, ValueError) as exc:
            raise ResolutionError(f"the rulesets directory {self.root} cannot be read: {_why(self.root, exc)}") \
                from None

    def _files(self, methodology: str) -> list[Path]:
        folder = self.root / check_methodology_id(methodology)
        if not folder.is_dir():
            return []
        return [p for p in folder.glob("*.yaml") if _is_semver(p.stem)]

    def default_methodology(self) -> str:
        """The methodology a caller that names none means: the only one of this registry (the
        shipped rulesets hold one). A ResolutionError, listing them, when there are several or none."""
        try:
            stamp: tuple[str, ...] | None = tuple(sorted(os.listdir(self.root)))
        except (OSError, TypeError, ValueError):  # (methodologies says why)
            stamp = None
        known = self._only
        if known is not None and stamp is not None and known[0] == stamp:
            return known[1]  # the root lists what it listed when that one was the only methodology
        found = self.methodologies()
        if len(found) == 1:
            if stamp is not None:
                self._only = (stamp, found[0])
            return found[0]
        if not found:
            raise ResolutionError(f"the rulesets directory {self.root} holds no methodology")
        raise ResolutionError(f"the rulesets directory {self.root} holds several methodologies "
                              f"({', '.join(found)}): name one with --methodology or methodology@version")

    def versions(self, methodology: str) -> list[str]:
        """The versions of a methodology, in semver order (listed again when a file is added or removed)."""
        check_methodology_id(methodology)
        try:
            stamp: tuple[str, ...] | None = tuple(sorted(os.listdir(self.root / methodology)))
        except (OSError, TypeError, ValueError):
            stamp = None
        listed = self._listed.get(methodology)
        if listed is not None and stamp is not None and listed[0] == stamp:
            return list(listed[1])
        files = self._files(methodology)
        if not files:
            if stamp is None:  # no folder of that name, or no root to hold one: then say so
                self._root_entries()
            raise ResolutionError(
                f"no methodology '{methodology}' in {self.root}"
                + (f" ({hint})" if (hint := did_you_mean(methodology, self._all_names())) else "")
            )
        versions = [str(v) for v in sorted(semver.Version.parse(p.stem) for p in files)]
        if stamp is not None:
            self._listed[methodology] = (stamp, versions)
        return list(versions)

    def _all_names(self) -> list[str]:
        try:
            return [p.name for p in self._root_entries() if p.is_dir()]
        except ResolutionError:
            return []

    def path(self, methodology: str, version: str) -> Path:
        """The file of one version (the id and the version are checked: never a path outside the root)."""
        return self.root / check_methodology_id(methodology) / f"{check_version(version)}.yaml"

    def lookup(self, ref: str, *, allow_unpublished: bool = False) -> Ruleset:
        """The version a reference names: exact (``m@2.0.0``) or the highest match of a range (``m@^2``).

        A range considers published versions only unless ``allow_unpublished``; an exact pin of a
        draft or withdrawn version is refused unless ``allow_unpublished`` (simulation).
        """
        methodology, spec = parse_reference(ref)
        versions = self.versions(methodology)
        if spec is None:
            spec = ">=0.0.0"
        if semver.Version.is_valid(spec):
            ruleset = self.get(methodology, spec)
            self._check_official(ruleset, allow_unpublished)
            return ruleset
        candidates = [v for v in versions if matches(v, spec)]
        for version in reversed(candidates):
            ruleset = self.get(methodology, version)
            if allow_unpublished or ruleset.document.status in OFFICIAL:
                return ruleset
        raise ResolutionError(f"no {'' if allow_unpublished else 'published '}version of {methodology} matches "
                              f"'{spec}'; versions: {', '.join(versions)}")

    @staticmethod
    def _check_official(ruleset: Ruleset, allow_unpublished: bool) -> None:
        status = ruleset.document.status
        if status not in OFFICIAL and not allow_unpublished:
            raise ResolutionError(f"{ruleset.methodology} {ruleset.version} is {status}: it cannot decide official "
                                  f"labels (to simulate with it: {SIMULATE_HINT})")

    def get(self, methodology: str, version: str) -> Ruleset:
        """One version, ready to decide (cached in this registry).

        A version recorded in the methodology's lock must still hash to the locked value: a
        published version edited in place is refused (RulesetError, L009, naming both hashes), so
        no decision is ever made under rules that are not the published ones.
        """
        with self._lock:
            ruleset = self.load(methodology, version)
            locked = self.read_lock(methodology).get(version)
            if locked is None:
                return ruleset
            if locked != ruleset.sha256:
                raise RulesetError([self._l009(methodology, version, locked, ruleset.sha256)])
            key = (methodology, version)
            published = self._published.get(key)
            if published is None or published.sha256 != ruleset.sha256:
                published = self._published[key] = dataclasses.replace(ruleset, published=True)
            return published

    def load(self, methodology: str, version: str) -> Ruleset:
        """Load one version as its file stands, without checking it against the lock (for lint and
        diff, which report an edited version; deciding goes through `get`)."""
        key = (methodology, version)
        found = self._cache.get(key)
        if found is not None:
            return found
        with self._lock:
            if key not in self._cache:
                versions = self.versions(methodology)
                if version not in versions:
                    raise ResolutionError(
                        f"{methodology} has no version {version}; versions: {', '.join(versions)}"
                    )
                self._cache[key] = load_ruleset(self.path(methodology, version), cache=self._parses)
            return self._cache[key]

    def _l009(self, methodology: str, version: str, locked: str, now: str) -> Diagnostic:
        return Diagnostic(
            "L009", f"{methodology} {version} was published with sha256 {locked} but its content now hashes to "
            f"{now}: a published version cannot change, and nothing is decided under it",
            str(self.path(methodology, version)),
            suggestion=f"undo the edit, or publish the change as a new version after {version}")

    def header(self, methodology: str, version: str) -> tuple[str, dt.date]:
        """A version's status and effective_from, without building it when its file is not loaded yet:
        read from the document with its ``extends`` resolved. A file whose header cannot be read
        that way is loaded, so that its problems are reported (RulesetError)."""
        key = (methodology, version)
        loaded = self._cache.get(key)
        if loaded is not None:
            return loaded.document.status, loaded.document.effective_from
        found = self._headers.get(key)
        if found is None:
            if version not in self.versions(methodology):
                self.get(methodology, version)  # raises, naming the versions there are
            raw = _load_raw(self.path(methodology, version), cache=self._parses)
            status = raw.data.get("status") if isinstance(raw.data, dict) else None
            starts = raw.data.get("effective_from") if isinstance(raw.data, dict) else None
            selector = _selector(raw.data)
            if raw.diagnostics or not isinstance(status, str) or status not in STATUSES or \
                    type(starts) is not dt.date or selector is False:
                document = self.get(methodology, version).document
                self._selectors[key] = document.selected_by
                return document.status, document.effective_from
            self._selectors[key] = None if selector is True else selector
            found = self._headers[key] = (status, starts)
        return found

    def selector(self, methodology: str, version: str) -> SelectedBy | None:
        """How a version is chosen when none is pinned (its ``selected_by``; None: by assessed_on)."""
        key = (methodology, version)
        loaded = self._cache.get(key)
        if loaded is not None:
            return loaded.document.selected_by
        if key not in self._selectors:
            self.header(methodology, version)
        return self._selectors.get(key)

    def selects(self, methodology: str, *, allow_unpublished: bool = False) -> bool:
        """Whether a version of the methodology that may be chosen declares ``selected_by`` (then the
        version for an assessment is chosen by `select`, from the assessment's data).

        Asked once per decision, so the answer is remembered with the folder's listing it was
        found in (the one the last `versions` call made; each resolution lists the folder again,
        so a version added is seen from the next decision on), and costs a lookup."""
        key = (methodology, allow_unpublished)
        known = self._selecting.get(key)
        listed = self._listed.get(methodology)
        if known is not None and listed is not None and known[0] is listed:
            return known[1]
        found = any(self.selector(methodology, version) is not None
                    for version in self.versions(methodology)
                    if allow_unpublished or self.header(methodology, version)[0] in OFFICIAL)
        self._selecting[key] = (self._listed.get(methodology), found)
        return found

    def selection_inputs(self, methodology: str, *, allow_unpublished: bool = False) -> tuple[str, ...]:
        """The dotted inputs whose values `select` reads to choose a version (each version's ``selected_by``
        input and its date input, ``assessed_on`` by default), sorted: two assessments with the same
        values there are decided under the same version, for the same reason."""
        paths: set[str] = set()
        for version in self.versions(methodology):
            if not allow_unpublished and self.header(methodology, version)[0] not in OFFICIAL:
                continue
            chosen = self.selector(methodology, version)
            if chosen is not None and chosen.input is not None:
                paths.add(chosen.input)
            paths.add(chosen.date if chosen is not None and chosen.date is not None else "assessed_on")
        return tuple(sorted(paths))

    def in_force(self, methodology: str, on: dt.date, *, allow_unpublished: bool = False) -> Ruleset:
        """The version in force on a date: the published version with the greatest effective_from on or
        before it (drafts and withdrawn versions count only when ``allow_unpublished``).

        Only that version is built: the others' status and date are read from their files
        (`header`), so a version with broken rules does not stop deciding under another."""
        best: tuple[str, dt.date] | None = None
        eligible: list[dt.date] = []
        for version in self.versions(methodology):
            status, starts = self.header(methodology, version)
            if status not in OFFICIAL and not allow_unpublished:
                continue
            eligible.append(starts)
            if starts <= on and (best is None or starts >= best[1]):
                best = (version, starts)
        if best is None:
            if not eligible:
                raise ResolutionError(f"{methodology} has no published version (only drafts or withdrawn ones); "
                                      f"to simulate with them: {SIMULATE_HINT}")
            raise ResolutionError(
                f"no version of {methodology} is in force on {on.isoformat()}: the first took effect on "
                f"{min(eligible).isoformat()}"
            )
        return self.get(methodology, best[0])

    def select(self, methodology: str, data: typing.Any, *,
               allow_unpublished: bool = False) -> tuple[Ruleset, Resolution]:
        """The version that decides an assessment, for a methodology whose versions declare
        ``selected_by``: of the versions that apply to it (its value of each version's input is
        one of that version's values, and its date, ``assessed_on`` or the version's own date input,
        is on or after the version's effective_from), the one that took effect last. None that
        applies, or two that took effect on the same day, is a ResolutionError saying why."""
        applying: list[tuple[dt.date, str, str]] = []
        why_not: list[str] = []
        chosen_by: list[SelectedBy | None] = []  # of the versions that do not apply
        for version in self.versions(methodology):
            status, starts = self.header(methodology, version)
            if status not in OFFICIAL and not allow_unpublished:
                continue
            selector = self.selector(methodology, version)
            applies, reason = _applies(selector, version, starts, data)
            if applies:
                applying.append((starts, version, reason))
            else:
                why_not.append(reason)
                chosen_by.append(selector)
        if not applying:
            error = ResolutionError(f"no version of {methodology} applies to this assessment: " + (
                "; ".join(why_not) if why_not else "it has no published version"))
            error.pointer = _selecting_pointer(chosen_by, data)
            raise error
        latest = max(starts for starts, _, _ in applying)
        best = [(version, reason) for starts, version, reason in applying if starts == latest]
        if len(best) > 1:
            error = ResolutionError(f"two versions of {methodology} apply to this assessment and took effect on the "
                                    f"same day ({latest.isoformat()}): " + ", ".join(v for v, _ in best) +
                                    "; pin one, or make their selected_by values distinct")
            found = self.selector(methodology, best[0][0])
            error.pointer = _pointer(found.input) if found is not None and found.input is not None else None
            raise error
        version, reason = best[0]
        later = " (the latest that applies)" if len(applying) > 1 else ""
        ruleset = self.get(methodology, version)
        return ruleset, Resolution(method="in_force", reason=f"version {version} applies because {reason}{later}")

    def resolve(self, methodology: str, *, version: str | None = None, on: dt.date | None = None,
                allow_unpublished: bool = False) -> tuple[Ruleset, Resolution]:
        """Choose the version: a pin (exact or a range) when given, else the one in force on ``on``."""
        if version is not None:
            ruleset = self.lookup(f"{methodology}@{version}", allow_unpublished=allow_unpublished)
            how = "pinned" if semver.Version.is_valid(version) else f"the highest match of '{version}'"
            reason = (f"version {ruleset.version} was pinned by the caller" if how == "pinned"
                      else f"version {ruleset.version} is {how}")
            if ruleset.document.status not in OFFICIAL:
                reason += f" ({ruleset.document.status}: a simulation, not an official decision)"
            return ruleset, Resolution(method="pinned", reason=reason)
        if on is None:
            raise ResolutionError("give a version, or a date to find the version in force")
        ruleset = self.in_force(methodology, on, allow_unpublished=allow_unpublished)
        return ruleset, _in_force(ruleset, on)

    def chooser(self, methodology: str, *,
                allow_unpublished: bool = False) -> typing.Callable[[dt.date], tuple[Ruleset, Resolution]]:
        """What `resolve` answers for a date (``on``), as the versions stand now: the folder is listed
        and the lock read once, here, and each version the chooser hands out is built and checked
        against the lock once, on its first use (a version that cannot be used raises then, as
        `get` does). For a batch, which asks again for every assessment: the caller makes a new
        chooser to see the folder anew. A date before every version is answered by `resolve`."""
        eligible = []
        for index, version in enumerate(self.versions(methodology)):
            status, starts = self.header(methodology, version)
            if status in OFFICIAL or allow_unpublished:
                eligible.append((starts, index, version))
        eligible.sort()  # of two versions starting the same day, the later in semver order is in force
        starts_on = [starts for starts, _, _ in eligible]
        built: dict[str, Ruleset] = {}

        def choose(on: dt.date) -> tuple[Ruleset, Resolution]:
            at = bisect.bisect_right(starts_on, on)
            if not at:
                return self.resolve(methodology, on=on, allow_unpublished=allow_unpublished)  # says why not
            version = eligible[at - 1][2]
            ruleset = built.get(version)
            if ruleset is None:
                ruleset = built[version] = self.get(methodology, version)
            return ruleset, _in_force(ruleset, on)

        return choose

    # -- lineage and locks ----------------------------------------------------------------------

    def lineage(self, methodology: str) -> list[Diagnostic]:
        """Check that the versions form one line: names, supersedes, dates and statuses agree.

        Versions chosen by an input's value (``selected_by: {input, values}``) run side by side,
        one line per set of values: supersedes, dates and two versions in force on one day are
        checked within each line, and the first of a line may supersede a version of another."""
        out: list[Diagnostic] = []
        lines: dict[tuple[str, ...] | None, tuple[Ruleset | None, dict[dt.date, str]]] = {}
        for version in self.versions(methodology):
            ruleset = self.load(methodology, version)
            doc = ruleset.document
            line = tuple(sorted(doc.selected_by.values)) if doc.selected_by and doc.selected_by.input else None
            previous, starts = lines.get(line, (None, {}))
            lines[line] = (ruleset, starts)
            file = str(self.path(methodology, version))
            if doc.methodology != methodology:
                out.append(Diagnostic("L001", f"the file says methodology '{doc.methodology}' but lies in the "
                                      f"folder '{methodology}'", file, pointer="/methodology"))
            if doc.version != version:
                out.append(Diagnostic("L002", f"the file says version {doc.version} but is named {version}.yaml",
                                      file, pointer="/version"))
            if doc.status == "published" and doc.approval is None:
                out.append(Diagnostic("L007", "a published version needs 'approval' (body, date, reference)", file,
                                      pointer="/approval"))
            if doc.status in OFFICIAL:
                if doc.effective_from in starts:
                    out.append(Diagnostic("L005", f"{version} and {starts[doc.effective_from]} would both be in "
                                          f"force on {doc.effective_from.isoformat()}", file,
                                          pointer="/effective_from"))
                starts[doc.effective_from] = version
            if previous is None:
                if doc.supersedes is not None and (line is None or not self._earlier(methodology, doc)):
                    out.append(Diagnostic("L003", f"the first version cannot supersede {doc.supersedes}", file,
                                          pointer="/supersedes"))
            else:
                if doc.supersedes != previous.version:
                    named = f"not {doc.supersedes}" if doc.supersedes is not None else "and names none"
                    out.append(Diagnostic("L003", f"{version} must supersede its predecessor {previous.version}, "
                                          f"{named}", file, pointer="/supersedes",
                                          suggestion=f"supersedes: {previous.version}"))
                if doc.effective_from <= previous.document.effective_from:
                    out.append(Diagnostic("L004", f"{version} takes effect on {doc.effective_from.isoformat()}, not "
                                          f"after {previous.version} ({previous.document.effective_from.isoformat()})"
                                          ": versions and effective dates must increase together", file,
                                          pointer="/effective_from"))
        return out

    def successions(self, methodology: str) -> list[tuple[str, str]]:
        """Each version with the one it follows, (old, new), in semver order of the new: its
        predecessor. For versions chosen by an input's value, the predecessor in its line (see
        `lineage`), or, for the first of a line, the earlier version it supersedes."""
        versions = self.versions(methodology)
        line_of = {}
        for version in versions:
            chosen = self.load(methodology, version).document.selected_by
            line_of[version] = tuple(sorted(chosen.values)) if chosen is not None and chosen.input else None
        if all(line is None for line in line_of.values()):
            return list(itertools.pairwise(versions))
        out: list[tuple[str, str]] = []
        last: dict[tuple[str, ...] | None, str] = {}
        for version in versions:
            doc = self.load(methodology, version).document
            before = last.get(line_of[version])
            if before is None and doc.supersedes is not None and self._earlier(methodology, doc):
                before = doc.supersedes
            if before is not None:
                out.append((before, version))
            last[line_of[version]] = version
        return out

    def _earlier(self, methodology: str, doc: RulesetDocument) -> bool:
        """Whether the version ``doc`` supersedes is an earlier version of the methodology."""
        found = doc.supersedes
        return found is not None and found in self.versions(methodology) and \
            semver.Version.parse(found) < semver.Version.parse(doc.version)

    def notice(self, methodology: str, days: int) -> list[Diagnostic]:
        """Warn where a version was announced less than ``days`` days before it took effect."""
        out: list[Diagnostic] = []
        for version in self.versions(methodology):
            doc = self.load(methodology, version).document
            if doc.announced_on is None:
                continue
            given = (doc.effective_from - doc.announced_on).days
            if given < days:
                when = (f"{given} day(s) before it took effect" if given >= 0
                        else f"{-given} day(s) after it took effect")
                out.append(Diagnostic("L006", f"{version} was announced {when} (at least {days} days of notice "
                                      "expected)", str(self.path(methodology, version)),
                                      pointer="/announced_on", severity="warning"))
        return out

    def lock_path(self, methodology: str) -> Path:
        """The lock file that records the content hash of every published version."""
        return self.root / methodology / LOCK_FILE

    def read_lock(self, methodology: str) -> dict[str, str]:
        """version -> sha256 of the published versions recorded so far (read again when the file changes).

        Raises RulesetError (L012) when the lock cannot be read or was written with another
        content-hash scheme: its hashes could not be compared, so nothing is decided against it.
        """
        path = self.lock_path(methodology)
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        cached = self._locks.get(methodology)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if stamp is None:
            found: dict[str, str] = {}
        else:
            found = self._parse_lock(path)
        self._locks[methodology] = (stamp, found)
        return found

    def _parse_lock(self, path: Path) -> dict[str, str]:
        def bad(why: str) -> RulesetError:
            return _lock_error(path, why)
        data = _lock_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("versions", {}), dict):
            raise bad("not a lock (an object with 'versions')")
        scheme = data.get("hash_scheme", 1)
        if scheme != HASH_SCHEME:
            raise bad(f"it records content hashes of scheme {scheme!r}, and this ecei-rules computes scheme "
                      f"{HASH_SCHEME}, so they cannot be compared")
        out: dict[str, str] = {}
        for k, v in data.get("versions", {}).items():
            digest = v.get("sha256") if isinstance(v, dict) else None
            if not isinstance(digest, str) or re.fullmatch(r"[0-9a-f]{64}", digest) is None:
                raise bad(f"the entry of {str(k)[:40]!r} has no sha256 of 64 hex digits")
            out[str(k)] = digest
        return out

    def check_locks(self, methodology: str) -> list[Diagnostic]:
        """Errors where a published version's content no longer matches its recorded hash."""
        out: list[Diagnostic] = []
        try:
            locked = self.read_lock(methodology)
        except RulesetError as exc:
            return list(exc.diagnostics)
        lock_file = str(self.lock_path(methodology))
        for version in self.versions(methodology):
            ruleset = self.load(methodology, version)
            file = str(self.path(methodology, version))
            recorded = locked.get(version)
            if recorded is None:
                if ruleset.document.status == "published":
                    out.append(Diagnostic("L008", f"{version} is published but its hash is not locked", file,
                                          suggestion="run 'ecei-rules lock' to record it", severity="warning"))
            elif recorded != ruleset.sha256:
                out.append(self._l009(methodology, version, recorded, ruleset.sha256))
        for version in locked:
            if version not in self.versions(methodology):
                out.append(Diagnostic("L010", f"the published version {version} is locked but its file is gone",
                                      lock_file))
        return out

    def lock(self, methodology: str) -> list[str]:
        """Record the hash of every published version not yet locked; never rewrite a recorded one. The lock file
        is replaced whole (`replace_atomically`): a run that fails, a full disk or an interrupt, leaves it as it
        was."""
        locked = self.read_lock(methodology)
        path = self.lock_path(methodology)
        data = _lock_json(path) if path.exists() else {}
        if not isinstance(data, dict):
            raise _lock_error(path, "not a lock (an object with 'versions')")
        versions = data.setdefault("versions", {})
        added = []
        for version in self.versions(methodology):
            ruleset = self.load(methodology, version)
            if ruleset.document.status == "published" and version not in locked:
                versions[version] = {"sha256": ruleset.sha256,
                                     "effective_from": ruleset.document.effective_from.isoformat()}
                added.append(version)
        if added:
            data["methodology"] = methodology
            data["note"] = ("Content hashes (scheme 2: everything a decision depends on, key order and expressions "
                            "as written) of published versions. A published version never changes: publish a new "
                            "version instead. Written by 'ecei-rules lock'.")
            ordered = dict(sorted(versions.items(), key=lambda kv: semver.Version.parse(kv[0])))
            data["versions"] = ordered
            data["hash_scheme"] = HASH_SCHEME
            text = json.dumps(data, indent=2) + "\n"
            replace_atomically(path, lambda handle: handle.write(text))  # the hashes recorded are never lost
            self._locks.pop(methodology, None)
        return added


def _in_force(ruleset: Ruleset, on: dt.date) -> Resolution:
    """How a version in force on ``on`` was chosen."""
    reason = (f"version {ruleset.version} is in force on {on.isoformat()} "
              f"(effective from {ruleset.document.effective_from.isoformat()})")
    return Resolution(method="in_force", reason=reason)


def _applies(chosen: SelectedBy | None, version: str, starts: dt.date, data: typing.Any) -> tuple[bool, str]:
    """Whether a version applies to raw assessment data by its ``selected_by`` (None: by
    assessed_on alone), with the reason, or why not, in words."""
    reasons = []
    if chosen is not None and chosen.input is not None:
        value = value_at(data, chosen.input)  # text (a subclass's read as its plain text), else no value chooses
        text = str.__str__(value) if issubclass(type(value), str) else None
        if text not in chosen.values:
            return False, f"{version} is for {chosen.input} {' or '.join(chosen.values)}"
        reasons.append(f"{chosen.input} is {text}")
    date_input = chosen.date if chosen is not None and chosen.date is not None else "assessed_on"
    on = _date_at(data, date_input)
    if on is None:
        return False, f"{version} is chosen by {date_input}, which the assessment does not give as a date"
    if on < starts:
        return False, f"{version} takes effect on {starts.isoformat()}, after {date_input} {on.isoformat()}"
    reasons.append(f"{date_input} {on.isoformat()} is on or after its effective date {starts.isoformat()}")
    return True, " and ".join(reasons)


def _pointer(path: str) -> str:
    """The JSON pointer of a dotted input path."""
    return pointer_join("", *path.split("."))


def _selecting_pointer(chosen_by: list[SelectedBy | None], data: typing.Any) -> str | None:
    """Where an assessment that no version applies to is at fault: the input that chooses the versions
    when no version takes its value, else the date their date input compares (None: assessed_on)."""
    inputs = [(c.input, c.values) for c in chosen_by if c is not None and c.input is not None]
    if inputs and all(value_at(data, path) not in values for path, values in inputs):
        return _pointer(inputs[0][0])
    taken = [c for c in chosen_by if c is None or c.input is None or value_at(data, c.input) in c.values]
    dates = [c.date for c in taken if c is not None and c.date is not None]
    return _pointer(dates[0]) if dates else None


def _selector(data: typing.Any) -> SelectedBy | bool:
    """A raw document's ``selected_by``: True when it has none, False when it cannot be read without
    building the version (which then reports its problems)."""
    found = data.get("selected_by") if isinstance(data, dict) else None
    if found is None:
        return True
    try:
        return SelectedBy.model_validate(found)
    except ValueError:
        return False


def value_at(data: typing.Any, path: str) -> typing.Any:
    """The value at a dotted input path of raw assessment data (None where there is none), read with the plain
    dict's own lookup (a subclass's ``get`` is not called)."""
    node = data
    for key in path.split("."):
        node = dict.get(node, key) if issubclass(type(node), dict) else None
    return node


#: The form of a date written as text that chooses a version: YYYY-MM-DD in ASCII digits, nothing around it.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def choosing_date(value: typing.Any) -> dt.date | str | None:
    """The date a raw value that chooses a version stands for, read before validation and without calling
    anything of the value: a ``datetime.date``, or a ``str`` YYYY-MM-DD in ASCII digits (an instance of a
    subclass of either read as its plain value, `ecei_rules.ruleset.inputs.plain_date`); the text itself
    when it has that form but names no day (``2021-02-30``); None for anything else (a datetime included)."""
    if type(value) is not dt.date and type(value) is not str and value is not None:
        value = plain_date(value)
    if type(value) is dt.date:
        return value
    if type(value) is str and _ISO_DATE.fullmatch(value) is not None:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return None


def _date_at(data: typing.Any, path: str) -> dt.date | None:
    """The date at a dotted input path of raw data (`choosing_date`), or None."""
    found = choosing_date(value_at(data, path))
    return found if type(found) is dt.date else None


def _why(path: Path, exc: BaseException) -> str:
    """Why a folder cannot be listed, in words."""
    if isinstance(exc, FileNotFoundError):
        return "it does not exist"
    if isinstance(exc, NotADirectoryError):
        return "it is not a directory"
    if isinstance(exc, ValueError):  # refused before any folder is looked for
        return unusable_name(path)
    return str(getattr(exc, "strerror", None) or exc)


def _lock_error(path: Path, why: str) -> RulesetError:
    return RulesetError([Diagnostic("L012", f"the lock file cannot be used: {why}", str(path),
                                    suggestion="restore it from version control")])


def _lock_json(path: Path) -> typing.Any:
    """The JSON of a lock file: opened once, a regular file of at most 1 MiB (RulesetError, L012)."""
    try:
        return json.loads(read_limited(path, 1 << 20, "lock file").decode("utf-8"))
    except FileReadError as exc:
        raise _lock_error(path, exc.message) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise _lock_error(path, f"not readable JSON ({exc})"[:300]) from None
