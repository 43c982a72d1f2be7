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
    state.pages["reference/errors.md"] = _with_sql_codes(docs_gen.errors_page(CODES, FINDINGS))
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


# -- the command-line reference, read from the command line as --help shows it ---------------------------

PROGRAM = "ecei-rules"
#: The bracketed tail click adds to a parameter's help: ``[default: text]``, ``[required]``, ``[at least 1; required]``.
HELP_TAIL = re.compile(r"\s*\[(?P<items>[^\[\]]*)\]\s*$")


def _group_context(app: Any) -> tuple[Any, Any]:
    import typer.main

    group = typer.main.get_command(app)
    return group, group.context_class(group, info_name=PROGRAM)


def _usage(name: str, command: Any, sub: Any) -> str:
    """A command's usage line, the one ``--help`` prints (arguments by their metavar, optional ones in brackets)."""
    return " ".join([PROGRAM, name, *command.collect_usage_pieces(sub)])


def _param_row(param: Any, ctx: Any) -> tuple[str, list[str]]:
    """A parameter as ``--help`` shows it: its names (an argument by its metavar), its help with the range it
    takes, whether it is required and its default."""
    from ecei_rules.render.markdown import code, text

    kind = getattr(param, "param_type_name", "option")
    record = param.get_help_record(ctx)
    names, said = record if record else ("/".join(param.opts), getattr(param, "help", "") or "")
    items: list[str] = []
    tail = HELP_TAIL.search(said)
    if tail is not None:
        items = [i.strip() for i in tail["items"].split(";")]
        said = said[:tail.start()]
    required = bool(param.required) or "required" in items
    default = next((i.removeprefix("default: ") for i in items if i.startswith("default: ")), "")
    rest = [i for i in items if i != "required" and not i.startswith("default: ")]
    meaning = said.strip() + (f" ({'; '.join(rest)})" if rest else "")
    return kind, [code(names), text(meaning) or "—", "yes" if required else "", code(default) if default else ""]


def cli_page(app: Any, *, intro: str | None = None) -> str:
    """The command-line reference, read from the typer app as ``--help`` shows it: each command's help, its
    usage line, its arguments (by their metavar) and its options, with what each requires and defaults to."""
    from ecei_rules.render.markdown import code, table, text

    group, ctx = _group_context(app)
    lines = ["# Command line", "", f"`{PROGRAM}`: {text(group.help or '')}", ""]
    if intro:
        lines += [intro.strip(), ""]
    root_rows = [_param_row(p, ctx)[1] for p in group.get_params(ctx)]
    if root_rows:
        lines += [f"Options of `{PROGRAM}` itself, before a command:", ""]
        lines += table(["option", "meaning", "required", "default"], root_rows)
    commands = _commands(group, ctx)
    lines += ["The commands:", ""]
    lines += table(["command", "what it does"], [
        [f"[{code(n)}](#{n})", text(c.get_short_help_str(120))] for n, c in commands])
    for name, command in commands:
        sub = command.context_class(command, info_name=name, parent=ctx)
        rows = [_param_row(p, sub) for p in command.get_params(sub)]
        lines += [f"## {name} {{#{name}}}", "", text(command.help or ""), "", "```", _usage(name, command, sub),
                  "```", ""]
        arguments = [r for k, r in rows if k == "argument"]
        options = [r for k, r in rows if k != "argument"]
        if arguments:
            lines += table(["argument", "meaning", "required", "default"], arguments)
        if options:
            lines += table(["option", "meaning", "required", "default"], options)
    return "\n".join(lines)


def _commands(group: Any, ctx: Any) -> list[tuple[str, Any]]:
    """The visible commands, in the order ``--help`` lists them."""
    found = [(n, group.get_command(ctx, n)) for n in group.list_commands(ctx)]
    return [(n, c) for n, c in found if c is not None and not c.hidden]


def usage_and_help(app: Any, name: str, *, reference: str) -> str:
    """A command's usage line (as ``--help`` prints it) and help, with a link to its reference; empty when the
    command does not exist."""
    from ecei_rules.render.markdown import text

    group, ctx = _group_context(app)
    command = dict(_commands(group, ctx)).get(name)
    if command is None:
        return ""
    sub = command.context_class(command, info_name=name, parent=ctx)
    return "\n".join(["```", _usage(name, command, sub), "```", "", text(command.help or ""),
                      f"Every option: [`{PROGRAM} {name}`]({reference}#{name}).", ""])


#: The section of the SQL engine's codes (Q), which the errors page would otherwise list under "Other".
SQL_CODES = "## SQL engine"


def _with_sql_codes(page: str) -> str:
    """The errors page with the Q codes (the SQL engine's) in a section of their own, each summary a sentence
    that begins with a capital, as in the other sections."""
    from ecei_rules.render.markdown import text

    q_codes = [c for c in CODES if c.startswith("Q")]
    if not q_codes:
        return page
    for c in q_codes:
        written = f"### {c} {{#{c.lower()}}}\n\n{text(CODES[c])}.\n\n"
        if written not in page:
            raise PluginError(f"the errors page does not list {c} as expected; update docs/hooks.py")
        page = page.replace(written, "")
    page = page.replace("## Other\n\n## Decision log findings", "## Decision log findings")
    section = [SQL_CODES, "", "What the SQL engine (`--engine sql` of `evaluate` and `impact`, `ecei_rules.query`; the "
               "`[sql]` extra) cannot decide exactly: a construct of a version it does not compile, or a value of an "
               "assessment its table cannot hold. The [SQL how-to](../how-to/sql.md) says more.", ""]
    for c in q_codes:
        section += [f"### {c} {{#{c.lower()}}}", "", text(CODES[c][0].upper() + CODES[c][1:]) + ".", ""]
    marker = "## Decision log findings"
    if marker in page:
        return page.replace(marker, "\n".join(section) + "\n" + marker, 1)
    return page.rstrip("\n") + "\n\n" + "\n".join(section)


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
