"""The registry: every methodology and version under a rulesets directory, and which
version answers a request (the version in force on a date, or an exact pin).

A rulesets directory holds one folder per methodology and one file per version::

    rulesets/ecei-labels/1.0.0.yaml ... 3.0.1.yaml

The shipped rulesets travel inside the installed package (see :func:`shipped_rulesets`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import semver

from .engine.decision import Resolution
from .errors import ResolutionError, did_you_mean
from .ruleset.load import Ruleset, load_ruleset

DEFAULT_METHODOLOGY = "ecei-labels"


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


@dataclass
class Registry:
    """Versions of methodologies under one directory; loads each version once, on demand."""

    root: Path
    _cache: dict[tuple[str, str], Ruleset] = field(default_factory=dict, repr=False)

    @classmethod
    def shipped(cls) -> Registry:
        """The registry of the rulesets shipped with the package."""
        return cls(shipped_rulesets())

    def methodologies(self) -> list[str]:
        """The methodology ids (folder names) in this registry."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and any(self._files(p.name)))

    def _files(self, methodology: str) -> list[Path]:
        folder = self.root / methodology
        if not folder.is_dir():
            return []
        return [p for p in folder.glob("*.yaml") if _is_semver(p.stem)]

    def versions(self, methodology: str) -> list[str]:
        """The versions of a methodology, in semver order."""
        files = self._files(methodology)
        if not files:
            raise ResolutionError(
                f"no methodology '{methodology}' in {self.root}"
                + (f" ({hint})" if (hint := did_you_mean(methodology, self._all_names())) else "")
            )
        return [str(v) for v in sorted(semver.Version.parse(p.stem) for p in files)]

    def _all_names(self) -> list[str]:
        return [p.name for p in self.root.iterdir() if p.is_dir()] if self.root.is_dir() else []

    def path(self, methodology: str, version: str) -> Path:
        """The file of one version."""
        return self.root / methodology / f"{version}.yaml"

    def get(self, methodology: str, version: str) -> Ruleset:
        """Load one version (cached in this registry)."""
        key = (methodology, version)
        if key not in self._cache:
            versions = self.versions(methodology)
            if version not in versions:
                raise ResolutionError(
                    f"{methodology} has no version {version}; versions: {', '.join(versions)}"
                )
            self._cache[key] = load_ruleset(self.path(methodology, version))
        return self._cache[key]

    def in_force(self, methodology: str, on: dt.date) -> Ruleset:
        """The version in force on a date: the greatest effective_from on or before it."""
        best: Ruleset | None = None
        for version in self.versions(methodology):
            ruleset = self.get(methodology, version)
            starts = ruleset.document.effective_from
            if starts <= on and (best is None or starts >= best.document.effective_from):
                best = ruleset
        if best is None:
            first = min(self.get(methodology, v).document.effective_from for v in self.versions(methodology))
            raise ResolutionError(
                f"no version of {methodology} is in force on {on.isoformat()}: the first took effect on "
                f"{first.isoformat()}"
            )
        return best

    def resolve(self, methodology: str, *, version: str | None = None,
                on: dt.date | None = None) -> tuple[Ruleset, Resolution]:
        """Choose the version: a pin when given, else the one in force on ``on``."""
        if version is not None:
            ruleset = self.get(methodology, version)
            return ruleset, Resolution(method="pinned", reason=f"version {version} was pinned by the caller")
        if on is None:
            raise ResolutionError("give a version, or a date to find the version in force")
        ruleset = self.in_force(methodology, on)
        reason = (f"version {ruleset.version} is in force on {on.isoformat()} "
                  f"(effective from {ruleset.document.effective_from.isoformat()})")
        return ruleset, Resolution(method="in_force", reason=reason)
