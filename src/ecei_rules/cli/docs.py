"""``ecei-rules docs --rulesets DIR --out SITE``: a documentation site for a rulesets directory of one's own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecei_rules.cli.common import EXIT_FINDINGS, console, exit_on_load_errors, fail, write_failed
from ecei_rules.core.terminal import show_path, text
from ecei_rules.registry import Registry


def docs(
    rulesets: Annotated[Path, typer.Option("--rulesets", metavar="DIR", help="The rulesets directory "
                                           "(DIR/<methodology>/<version>.yaml).")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="SITE", help="The folder to write the site's "
                                      "sources to (mkdocs.yml and docs/).")],
    title: Annotated[str | None, typer.Option("--title", metavar="TEXT", help="The site's name (default: the "
                                              "methodologies' titles).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into SITE even when it is not empty (files of the "
                                        "same name are replaced, others are left).")] = False,
) -> None:
    """Write the sources of a documentation site for a rulesets directory: one page per version (criteria,
    parameters with their provenance, tiers, validity, inputs, embedded tests), one per pair of consecutive
    versions (the semantic diff), provenance, the JSON Schemas, the error codes, and an mkdocs.yml. Build it with
    'mkdocs build' in SITE (mkdocs and its theme come with the docs extra: pip install 'ecei-rules[docs]').
    Exit 1 when a ruleset does not load, 2 on usage errors."""
    from ecei_rules.errors import CODES, FINDINGS
    from ecei_rules.render.docs import errors_page, standalone_site

    registry = _registry(rulesets)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not force)):
        fail(f"{show_path(out)} is not an empty folder; give another one, or --force to write into it")
    with exit_on_load_errors(ruleset=EXIT_FINDINGS):
        methodologies = {m: [registry.get(m, v) for v in registry.versions(m)] for m in registry.methodologies()}
    sources = {(m, r.version): _source(registry.path(m, r.version))
               for m, versions in methodologies.items() for r in versions}
    name = title or ", ".join(versions[-1].document.title for versions in methodologies.values())
    files = standalone_site(methodologies, sources, errors_page(CODES, FINDINGS, language=None), title=name)
    for relative, content in files.items():
        path = out / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        except OSError as exc:  # a folder not writable, a file in the way (a full disk: exit 3)
            write_failed(f"cannot write the site's {show_path(path)}", exc)
    pages = sum(1 for relative in files if relative.endswith(".md"))
    counted = f"{len(methodologies)} {'methodology' if len(methodologies) == 1 else 'methodologies'}"
    console().print(text(f"{pages} pages for {counted} written to {show_path(out)}; "
                         f"build the site with: cd {show_path(out)} && mkdocs build"))


def _source(path: Path) -> str:
    """The text of a ruleset's file, shown on its page: read as the ruleset was (a regular file, within the
    size a ruleset may have), in case it changed since."""
    from ecei_rules.core.files import FileReadError, read_limited
    from ecei_rules.ruleset.safe_yaml import MAX_BYTES

    try:
        return read_limited(path, MAX_BYTES, f"ruleset {show_path(path)}").decode("utf-8", errors="replace")
    except FileReadError as exc:
        fail(exc.message, EXIT_FINDINGS)


def _registry(rulesets: Path) -> Registry:
    """The registry of a rulesets directory that holds at least one methodology (else a usage error)."""
    if not rulesets.is_dir():
        fail(f"{show_path(rulesets)} is not a directory (expected DIR/<methodology>/<version>.yaml)")
    registry = Registry(rulesets)
    if not registry.methodologies():
        fail(f"no rulesets found in {show_path(rulesets)} (expected DIR/<methodology>/<version>.yaml)")
    return registry


#: The commands of this module, by name.
COMMANDS = (("docs", docs),)
