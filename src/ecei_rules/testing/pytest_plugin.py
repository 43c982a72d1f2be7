"""A pytest plugin: the tests embedded in rulesets become pytest items.

Enabled by installing ecei-rules (entry point ``pytest11``). Name the rulesets directories in
the pytest configuration and include them in the paths pytest collects::

    [tool.pytest.ini_options]
    testpaths = ["tests", "rulesets"]
    ecei_rulesets = ["rulesets"]

Each ``<methodology>/<version>.yaml`` under those directories is collected; each of its
embedded tests is an item named after the test. A failure shows the file, the test, and
each expected value against the decided one; a ruleset that does not load is one failing
item with its located diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import semver

from ecei_rules.errors import RulesetError
from ecei_rules.ruleset.load import Ruleset, load_ruleset
from ecei_rules.testing.embedded import EmbeddedResult, run_test


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ``ecei_rulesets`` setting."""
    parser.addini("ecei_rulesets", "directories whose rulesets' embedded tests run as test items", type="paths",
                  default=[])


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect ruleset files under the configured directories."""
    if file_path.suffix != ".yaml" or not semver.Version.is_valid(file_path.stem):
        return None
    roots = [Path(p).resolve() for p in parent.config.getini("ecei_rulesets")]
    resolved = file_path.resolve()
    if not any(resolved.is_relative_to(root) for root in roots):
        return None
    collector: pytest.Collector = RulesetFile.from_parent(parent, path=file_path)
    return collector


class RulesetFile(pytest.File):
    """A ruleset file: one item per embedded test."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            ruleset = load_ruleset(self.path)
        except RulesetError as exc:
            yield LoadItem.from_parent(self, name="load", error=exc)
            return
        for index, test in enumerate(ruleset.document.tests):
            yield EmbeddedItem.from_parent(self, name=test.name, ruleset=ruleset, index=index)


class EmbeddedFailureError(Exception):
    """An embedded test whose decision differs from its expectation."""

    def __init__(self, result: EmbeddedResult) -> None:
        super().__init__(result.report())
        self.result = result


class EmbeddedItem(pytest.Item):
    """One embedded test of a ruleset."""

    def __init__(self, *, ruleset: Ruleset, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ruleset = ruleset
        self.index = index

    def runtest(self) -> None:
        result = run_test(self.ruleset, self.index)
        if not result.passed:
            raise EmbeddedFailureError(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, EmbeddedFailureError):
            test = self.ruleset.document.tests[self.index]
            lines = [f"{self.path}: embedded test '{test.name}'", *excinfo.value.result.differences]
            if test.derivation:
                lines.append(f"derivation: {test.derivation}")
            return "\n".join(lines)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.parent.name}@{self.path.stem}::{self.name}"


class LoadItem(pytest.Item):
    """A ruleset that does not load: fails with its diagnostics."""

    def __init__(self, *, error: RulesetError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(self.error)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}: load"
