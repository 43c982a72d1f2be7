"""MkDocs hooks: generate the pages that come from the rulesets and the code, at build time.

Nothing generated is committed. While ``mkdocs build`` (or ``serve``) runs:

* ``on_config`` loads every version under ``rulesets/`` (the repository's, not an installed
  copy), renders the generated pages with :mod:`ecei_rules.render.docs` (the command-line reference
  here, read from the command line as ``--help`` shows it: usage lines, arguments by their metavar,
  what each option requires and defaults to) and fills the
  ``Methodologies`` section of the navigation (with each methodology's written specification,
  ``docs/specification/<methodology>.md``, whose sections every "spec section N" of the generated
  pages links to);
* ``on_files`` adds those pages, the JSON Schemas (``schema/...``) and a page for each
  repository file a hand-written page links to (``../tests/data/every/1.0.0.yaml``);
* ``on_page_markdown`` expands ``<!-- gen: NAME ARGS -->`` markers in hand-written pages
  (the README's quick start, a decision of an example, the bump policy, schema URLs, whether
  a command exists and its usage, a module's docstring), links each "spec section N" to its
  section of the shipped methodology's specification, and points links to repository files at
  their generated pages;
* ``on_page_content`` stops the build when a page shows a raw reStructuredText role (a
  docstring written for Sphinx on the API page);
* ``on_serve`` rebuilds when a ruleset, an example or the README changes.

An unknown marker, a broken ruleset or a generated path that collides with a written page
stops the build.
"""

from __future__ import annotations

import logging
import posixpath
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ecei_rules.errors import CODES, FINDINGS, RulesetError
from ecei_rules.explanation.citations import citation_links
from ecei_rules.registry import Registry
from ecei_rules.render import docs as docs_gen
from ecei_rules.render.docs import cli_page, usage_and_help
from ecei_rules.ruleset.load import Ruleset

log = logging.getLogger("mkdocs.hooks.ecei_rules")

NAV_SECTION = "Methodologies"
MARKER = re.compile(r"<!--\s*gen:\s*(?P<body>.*?)\s*-->")
#: Markdown links (not images) with a relative target; the target may carry an #anchor.
LINK = re.compile(r"(?<!!)\[(?P<label>[^\]]*)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")
REPO_FILES = "repository"
SHOWN_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "json", ".toml": "toml",
                  ".py": "python", ".txt": "text"}


class _State:
    root: Path
    registry: Registry
    methodologies: dict[str, list[Ruleset]]
    specs: dict[str, str]  # methodology -> docs path of its written specification
    pages: dict[str, str]
    schemas: dict[str, str]
    repo_links: dict[str, dict[str, str]]  # docs page -> {link target as written: generated docs path}


state = _State()


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Load the rulesets, render the generated pages and fill the Methodologies navigation."""
    from ecei_rules.cli import app as cli

    state.root = _root(config)
    state.registry = Registry(state.root / "rulesets")
    try:
        state.methodologies = {m: [state.registry.get(m, v) for v in state.registry.versions(m)]
                               for m in state.registry.methodologies()}
    except RulesetError as exc:
        raise PluginError("the rulesets do not load, so their pages cannot be generated:\n"
                          + "\n".join(str(d) for d in exc.diagnostics)) from None
    sources = {(m, r.version): state.registry.path(m, r.version).read_text(encoding="utf-8")
               for m, rulesets in state.methodologies.items() for r in rulesets}
    state.specs = {m: docs_gen.spec_path(m) for m in state.methodologies
                   if (state.root / "docs" / docs_gen.spec_path(m)).is_file()}
    state.pages = docs_gen.site_pages(state.methodologies, sources, specs=state.specs)
    state.pages["reference/cli.md"] = cli_page(cli.app, intro=docs_gen.docstring_body(cli.__doc__))
    state.pages["reference/errors.md"] = docs_gen.errors_page(CODES, FINDINGS)
    state.schemas = docs_gen.schema_files(state.methodologies)
    state.repo_links = {}

    nav = config.nav or []
    for entry in nav:
        if isinstance(entry, dict) and NAV_SECTION in entry:
            entry[NAV_SECTION] = docs_gen.site_nav(state.methodologies, state.specs)
            break
    else:
        raise PluginError(f"mkdocs.yml: the nav needs a '{NAV_SECTION}' entry for the generated pages")
    return config


def _repo_target(page_src: str, target: str) -> Path | None:
    """The repository file a relative link from a docs page points at, when it lies outside docs/."""
    if "://" in target or target.startswith(("/", "mailto:")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_src), target))
    if not joined.startswith("../"):
        return None
    path = (state.root / "docs" / joined).resolve()
    try:
        path.relative_to(state.root)
    except ValueError:
        return None
    return path if path.is_file() and path.suffix in SHOWN_SUFFIXES else None


def _repo_page(relative: str, content: str) -> str:
    language = SHOWN_SUFFIXES[Path(relative).suffix]
    fence = "````" if "```" in content else "```"
    return "\n".join([f"# {relative}", "", f"The repository file `{relative}`, as it is when the site is built.", "",
                      f"{fence}{language}", content.rstrip("\n"), fence, ""])


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated pages, the JSON Schemas and pages for linked repository files."""
    for path, content in {**state.pages, **state.schemas}.items():
        if files.get_file_from_path(path) is not None:
            raise PluginError(f"docs/{path} is generated at build time; delete the written file")
        files.append(File.generated(config, path, content=content))
    for file in list(files.documentation_pages()):
        if file.generated_by is not None:
            continue
        for match in LINK.finditer(file.content_string):
            target = _repo_target(file.src_uri, match["target"])
            if target is None:
                continue
            relative = target.relative_to(state.root).as_posix()
            generated = f"{REPO_FILES}/{relative}.md"
            state.repo_links.setdefault(file.src_uri, {})[match["target"]] = generated
            if files.get_file_from_path(generated) is None:
                files.append(File.generated(config, generated,
                                            content=_repo_page(relative, target.read_text(encoding="utf-8"))))
    return files


def _relative(target: str, page: Page) -> str:
    return posixpath.relpath(target, posixpath.dirname(page.file.src_uri) or ".")


def _fragments(page: Page, config: MkDocsConfig) -> dict[str, Callable[[list[str]], str]]:
    def readme_section(args: list[str]) -> str:
        readme = (state.root / "README.md").read_text(encoding="utf-8")
        return docs_gen.markdown_section(readme, " ".join(args))

    def example_decision(args: list[str]) -> str:
        from ecei_rules.batch import decide, parse_assessment_text

        path = state.root / args[0]
        data = parse_assessment_text(path.read_text(encoding="utf-8"), yaml=path.suffix in (".yaml", ".yml"),
                                     file=args[0])
        decision = decide(data, registry=state.registry)
        return docs_gen.decision_fragment(decision, f"ecei-rules evaluate {args[0]}")

    def bump_policy(args: list[str]) -> str:
        from ecei_rules.compare import bump

        return docs_gen.docstring_body(bump.__doc__)

    def version_bumps(args: list[str]) -> str:
        return "\n".join(docs_gen.versions_bumps(state.methodologies[m], page=page.file.src_uri) for m in args)

    def schema_list(args: list[str]) -> str:
        return docs_gen.schema_list(state.methodologies, page=page.file.src_uri, site_url=config.site_url)

    def command_status(args: list[str]) -> str:
        from ecei_rules.cli.app import app

        return docs_gen.command_status(docs_gen.command_names(app), args,
                                       reference=_relative("reference/cli.md", page))

    def command_help(args: list[str]) -> str:
        from ecei_rules.cli.app import app

        return usage_and_help(app, args[0], reference=_relative("reference/cli.md", page))

    def module_doc(args: list[str]) -> str:
        import importlib

        try:
            module = importlib.import_module(args[0])
        except ImportError:
            return "\n".join(docs_gen.admonition("warning", "Planned", f"`{args[0]}` is not in this version yet."))
        return docs_gen.docstring_body(module.__doc__)

    return {"command-help": command_help, "module-doc": module_doc, "readme-section": readme_section,
            "example-decision": example_decision, "bump-policy": bump_policy, "version-bumps": version_bumps,
            "schema-list": schema_list, "command-status": command_status}


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Expand the markers of a written page and point its links to repository files at their pages."""
    if page.file.generated_by is not None:
        return markdown
    fragments = _fragments(page, config)

    def expand(match: re.Match[str]) -> str:
        name, *args = shlex.split(match["body"])
        if name not in fragments:
            raise PluginError(f"docs/{page.file.src_uri}: unknown marker '{name}' (known: {', '.join(fragments)})")
        return fragments[name](args)

    markdown = MARKER.sub(expand, markdown)
    spec = state.specs.get(Registry.shipped().default_methodology())
    if spec is not None:  # a written page that cites "spec section N" means the shipped methodology's
        markdown = citation_links(markdown, _relative(spec, page))
    links = state.repo_links.get(page.file.src_uri, {})

    def relink(match: re.Match[str]) -> str:
        generated = links.get(match["target"])
        if generated is None:
            return match[0]
        return f"[{match['label']}]({_relative(generated, page)}{match['anchor'] or ''})"

    return LINK.sub(relink, markdown) if links else markdown


#: A reStructuredText role left in a docstring shows raw on the API page (mkdocstrings reads Markdown).
RST_ROLE = re.compile(r":(?:class|meth|func|data|mod|attr|exc|obj):\s*`?[A-Za-z_]")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Stop the build when a page shows a raw reStructuredText role (a docstring on the API page that
    says :class:`X` where Markdown wants `X`)."""
    text = re.sub(r"<[^>]+>", "", html)
    found = RST_ROLE.search(text)
    if found is not None:
        context = " ".join(text[max(0, found.start() - 60):found.end() + 40].split())
        raise PluginError(f"docs/{page.file.src_uri}: a raw reStructuredText role shows on the page "
                          f"(write `name` in the docstring instead): ...{context}...")
    return html


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """Rebuild the site when a ruleset, an example or the README changes."""
    root = _root(config)
    for path in ("rulesets", "examples", "README.md"):
        server.watch(str(root / path))
    return server
