"""The one place that touches durable-rules: a typed wrapper that rules out its hazards.

durable-rules 2.0.28 (Python 3.11) has these hazards; each line says how this module makes
it impossible, or at least loud:

* **Background timer threads run actions.** ``durable.lang`` keeps one process-wide
  ``Host`` whose constructor starts two self-rearming ``threading.Timer`` chains
  (``_d_timer`` runs queued actions, ``_t_timer`` runs rule timers), so an action meant for
  the caller can run on a timer thread. This module never imports ``durable.lang``; it
  builds its own ``Host`` subclass whose ``_run`` starts nothing, checks before every
  evaluation that no timer attribute appeared and that no ``durable.lang`` host (whose timers
  would call into the same native engine) was started by other code in the process, and every
  action checks that it runs on the evaluating thread, inside the evaluation's own session. An
  action that runs anywhere else is refused and recorded, and the next evaluation fails.
* **One process-wide registry; a name cannot be registered twice or unloaded.** Rulesets
  are registered once per process under a name derived from their content hash (the
  caller's job, see :func:`ecei_rules.backends.durable.compile_ruleset`); registering a name
  again is a no-op when the content digest is the same and an error when it is not.
* **Facts persist between calls and join across subjects.** Every evaluation has a session
  id of its own, never reused; the session must be empty before it starts; its state is
  deleted afterwards, and the deletion is checked.
* **A post that matches no rule raises**, and a fact asserted in an action that matches no
  rule raises inside the action (and is swallowed). Every registered ruleset gets a catch-all
  rule that matches any fact with a ``t`` field and never fires, so nothing posted or asserted
  is ever "not handled": a post that no real rule matches simply fires nothing (for the label:
  no label rule fires, so no label).
* **Deleting a session in which no action ran crashes the process** (a segmentation fault in
  ``delete_state``, every time in a fresh process; found while building this module). Every
  post ends with an ``__end__`` fact whose rule fires a no-op action, so every session has run
  an action before it is deleted; a session in which it did not fire is never deleted (it is
  abandoned, counted by :meth:`Runtime.open_sessions`) and the evaluation fails.
* **No explanation API.** Every action records the rule that fired, in order; the facts it
  asserts are read back from the session before it is deleted.
* **Its Python dispatch costs more than its matching.** For each action ``Ruleset.do_actions``
  builds a closure (reading the clock twice), serialises the unchanged session state again and
  reads the next action with the standard library's JSON. The runtime runs the actions itself
  (:meth:`Runtime._dispatch`): the same calls into the native engine (``start_action_for_state``,
  then ``update_state`` and ``complete_and_start_action`` after each action), the state
  serialised once per session, facts and frames through orjson. durable-rules' native engine
  still matches every fact and chooses every action; an action given anything but the
  runtime's own call object is refused.
* **A fact without an ``id`` is known by a hash of its content**, and two facts of a session
  whose hashes collide make the second "already observed" (``MessageObservedException``),
  rarely but at random (found by a test that failed once in some thousands of sessions).
  Every fact posted or asserted here gets an ``id`` of its own, the session's count
  ``"0"``, ``"1"``, ... (20,000 facts of equal content with these ids all stay apart); rule
  frames and the facts read back come without it, and a caller's fact may not carry one.
* **Source-only package needing a C compiler; does not import on Python 3.13.** The import
  happens on first use; if it fails, :class:`DurableUnavailableError` says how to install the
  optional extra. Another release than 2.0.28 is refused: this module relies on its internals.
* **Two threads on one session give wrong results.** One process-wide lock serialises every
  call into the engine; sessions are never shared.
* **Sessions never deleted fail with MemoryError after 1,024.** State is deleted in a
  ``finally`` after every evaluation, also when it fails; :meth:`Runtime.open_sessions`
  counts what is left (always 0 between evaluations).
* **A two-parameter action is silently asynchronous** (durable counts ``co_argcount``; a
  default-argument closure has two). Actions are built here only, with exactly one
  parameter and no defaults, and after registration every action is checked to be
  synchronous; anything else is refused at registration.
* **Exceptions raised inside actions are swallowed** (durable stores them in the session
  state as a string). Every action records its exception; the dispatch goes on, as durable's
  would, so the session still reaches its end; after each evaluation the recorded exceptions,
  the native engine's errors and the state's ``exception`` field are checked, and the first is
  raised as :class:`DurableError`.
* **Its JSON reader rejects ``1e-05``** (an exponent needs a fraction) **and reads integers
  with ``atoll``.** Facts (posted, and asserted by actions) are serialised here, numbers in a
  form it reads exactly; patterns with numbers it would misread are refused at registration.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import orjson

from ecei_rules.errors import EceiRulesError

#: The durable-rules release this wrapper was written against (it uses its internals).
DURABLE_RULES_VERSION = "2.0.28"

Fact = dict[str, Any]
Frames = Mapping[str, Mapping[str, Any]]
Emit = Callable[[Frames], list[Fact]]


class DurableUnavailableError(EceiRulesError, ImportError):
    """durable-rules is not installed (or not the release this backend needs)."""


class DurableError(EceiRulesError, RuntimeError):
    """durable-rules misbehaved, or an action failed: never answered with a silent wrong result."""


@dataclass(frozen=True)
class Rule:
    """A durable-rules rule: named frames (alias -> pattern), all of which must match, and the
    facts its action asserts, computed from the matched frames."""

    name: str
    frames: tuple[tuple[str, dict[str, Any]], ...]
    emit: Emit


@dataclass
class SessionResult:
    """What one evaluation session derived."""

    facts: list[Fact]  # every fact in the session at the end (posted and asserted, without __end__)
    fired: list[str]  # the rules whose actions ran, in order (without the runtime's own)


@dataclass
class _Context:
    sid: str
    thread: int
    fired: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=itertools.count)  # the "id" of each fact of the session


def _load() -> tuple[Any, Any]:
    """Import durable-rules' engine (never ``durable.lang``, which starts timer threads)."""
    hint = ("the durable backend needs the optional extra: pip install 'ecei-rules[durable]' "
            f"(durable-rules {DURABLE_RULES_VERSION} is built from source and needs a C compiler; "
            "it does not import on Python 3.13)")
    try:
        installed = metadata.version("durable-rules")
    except metadata.PackageNotFoundError:
        raise DurableUnavailableError(f"durable-rules is not installed: {hint}") from None
    if installed != DURABLE_RULES_VERSION:
        raise DurableUnavailableError(f"durable-rules {installed} is installed, but this backend is written against "
                                 f"{DURABLE_RULES_VERSION}: {hint}")
    try:
        engine = importlib.import_module("durable.engine")
        native = importlib.import_module("durable_rules_engine")
    except ImportError as exc:
        raise DurableUnavailableError(f"durable-rules cannot be imported ({exc}): {hint}") from exc
    return engine, native


def _number_text(value: float) -> str:
    """A float as durable's JSON reader reads it back exactly (``1e-05`` -> ``1.0e-05``)."""
    if not math.isfinite(value):
        raise DurableError(f"durable-rules cannot carry the number {value!r}")
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def dumps(value: Any) -> str:
    """JSON text that durable-rules reads exactly as meant."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise DurableError(f"durable-rules compares integers as doubles; {value} is too large to compare exactly")
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, str):
        if any(c in value for c in '"\\') or any(ord(c) < 32 for c in value):
            raise DurableError(f"durable-rules cannot compare the text {value!r} exactly (quotes, backslashes or "
                               "control characters)")
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise DurableError(f"durable-rules cannot carry a {type(value).__name__}")


def _check_pattern_numbers(value: Any, where: str) -> None:
    """Refuse numbers durable's own ``json.dumps`` would write in a form its reader misreads."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise DurableError(f"{where}: the integer {value} is too large to compare exactly")
        return
    if isinstance(value, float):
        if not math.isfinite(value) or ("e" in repr(value) and "." not in repr(value)):
            raise DurableError(f"{where}: durable-rules would misread the number {value!r}")
        return
    if isinstance(value, Mapping):
        for v in value.values():
            _check_pattern_numbers(v, where)
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_pattern_numbers(v, where)
        return
    raise DurableError(f"{where}: a {type(value).__name__} in a pattern")


class Runtime:
    """The process's durable-rules host: registration, sessions, and the hazard guards."""

    def __init__(self) -> None:
        self._engine, self._native = _load()
        self._lock = threading.Lock()
        self._ctx: _Context | None = None
        self._prefix = f"ecei-{os.getpid()}-{id(self):x}-"
        self._counter = itertools.count(1)
        self._digests: dict[str, str] = {}
        self._rulesets: dict[str, Any] = {}
        self._open: set[str] = set()
        self.stray: list[str] = []  # actions that ran outside an evaluation (never expected)
        self.last_session: str | None = None  # the id of the latest session (its state is deleted)

        class _QuietHost(self._engine.Host):  # type: ignore[name-defined,misc]
            """durable's Host without its background dispatch and timer threads."""

            def _run(self) -> None:
                return None

        self._host = _QuietHost()
        self._check_quiet()

    # -- guards --------------------------------------------------------------------------------
    def _check_quiet(self) -> None:
        for attribute in ("_d_timer", "_t_timer"):
            if hasattr(self._host, attribute):
                raise DurableError(f"durable-rules started its background {attribute} thread; refusing to evaluate")
        lang = sys.modules.get("durable.lang")
        if lang is not None and getattr(lang, "_main_host", None) is not None:
            # durable.lang's process-wide host runs timer threads that call into the same (not
            # thread-safe) native engine
            raise DurableError("durable.lang's host with its background timer threads runs in this process; "
                               "the durable backend refuses to share the native engine with it")

    def _action(self, rule: Rule) -> Callable[[Any], None]:
        aliases = tuple(alias for alias, _ in rule.frames)
        name, emit = rule.name, rule.emit

        def action(c: Any) -> None:  # exactly one parameter: durable runs it synchronously
            self._run_action(c, name, aliases, emit)

        return action

    def _run_action(self, c: Any, name: str, aliases: tuple[str, ...], emit: Emit) -> None:
        ctx = self._ctx
        if ctx is None or ctx.thread != threading.get_ident():
            self.stray.append(name)
            raise DurableError(f"the action of rule {name} ran outside an evaluation, or on another thread")
        try:
            sid = c.s.sid
            if sid != ctx.sid:
                raise DurableError(f"the action of rule {name} ran for session {sid} during session {ctx.sid}")
            if not isinstance(c, _Call):
                raise DurableError(f"the action of rule {name} was not run by the runtime's own dispatch")
            frames = c.frames  # read from durable's JSON for this action alone: the ids are dropped in place
            for alias in aliases:
                frames[alias].pop("id", None)
            for fact in emit(frames):
                c.assert_fact({**fact, "sid": sid, "id": str(next(ctx.ids))})
            ctx.fired.append(name)
        except BaseException as exc:  # durable would swallow it: keep it for the caller
            ctx.errors.append(exc)
            raise

    # -- registration ----------------------------------------------------------------------------
    def is_registered(self, name: str) -> bool:
        """True when a ruleset of this name is registered in this process."""
        return name in self._rulesets

    def register(self, name: str, digest: str, rules: Sequence[Rule]) -> None:
        """Register rules under ``name`` once per process (``digest`` identifies their content).

        The runtime adds two rules of its own: ``__end__`` (fires once per session, see the module
        docstring) and ``__catch_all__`` (matches every fact with a ``t`` field, never fires)."""
        with self._lock:
            if name in self._digests:
                if self._digests[name] != digest:
                    raise DurableError(f"the durable ruleset name {name} is already registered with other content")
                return
            definition: dict[str, Any] = {}
            actions: dict[str, Callable[[Any], None]] = {}
            own = [Rule(_END, (("m", {"t": _END}),), _nothing),
                   Rule(_CATCH_ALL, (("a", {"$ex": {"t": 1}}), ("b", {"t": _NEVER})), _nothing)]
            for rule in [*rules, *own]:
                if rule.name in definition or (rule.name.startswith("__") and rule not in own):
                    raise DurableError(f"the rule name {rule.name} is used twice or reserved")
                for alias, pattern in rule.frames:
                    _check_pattern_numbers(pattern, f"rule {rule.name}, frame {alias}")
                action = self._action(rule)
                if action.__code__.co_argcount != 1 or action.__defaults__ is not None:
                    raise DurableError(f"the action of rule {rule.name} must take exactly one parameter")
                actions[rule.name] = action
                definition[rule.name] = {"all": [{alias: pattern} for alias, pattern in rule.frames], "run": action}
            self._host.register_rulesets({name: definition})
            registered = self._host.get_ruleset(name)
            for rule_name, promise in registered._actions.items():
                if promise._sync is not True or promise._next is not None or promise._func is not actions[rule_name]:
                    raise DurableError(f"durable-rules would run the action of rule {rule_name} asynchronously")
            self._rulesets[name] = registered
            self._digests[name] = digest

    # -- sessions --------------------------------------------------------------------------------
    def open_sessions(self) -> int:
        """Sessions whose state was not deleted (0 between evaluations)."""
        return len(self._open)

    def has_state(self, name: str, sid: str) -> bool:
        """True when the session ``sid`` of ruleset ``name`` holds state in the engine."""
        with self._lock:
            return self._has_state(self._rulesets[name], sid)

    def _has_state(self, ruleset: Any, sid: str) -> bool:
        try:
            self._native.get_facts(ruleset._handle, sid)  # the facts' text, not read: only whether it exists
        except self._native.error:
            return False
        return True

    def run(self, name: str, facts: Sequence[Fact]) -> SessionResult:
        """Post ``facts`` to a new session of ruleset ``name``, run every action it triggers on this
        thread, read back the session's facts and delete its state.

        Every fact needs a text field ``t`` (its type) not starting with ``__``."""
        for fact in facts:
            kind = fact.get("t")
            if not isinstance(kind, str) or kind.startswith("__") or "sid" in fact or "id" in fact:
                raise DurableError(f"a posted fact needs a type 't' of its own and no 'sid' or 'id': {fact!r}")
        ctx = self._ctx
        if ctx is not None and ctx.thread == threading.get_ident():
            raise DurableError("an evaluation was started from inside a durable-rules action")
        with self._lock:
            self._check_quiet()
            if self.stray:
                raise DurableError(f"durable-rules ran actions outside an evaluation: {', '.join(self.stray[:5])}")
            ruleset = self._rulesets.get(name)
            if ruleset is None:
                raise DurableError(f"no durable ruleset named {name} is registered")
            sid = f"{self._prefix}{next(self._counter)}"
            if self._has_state(ruleset, sid):
                raise DurableError(f"session {sid} already holds state")
            ctx = _Context(sid, threading.get_ident())
            self._ctx = ctx
            self.last_session = sid
            self._open.add(sid)
            try:
                return self._session(ruleset, ctx, facts)
            finally:
                self._ctx = None
                self._delete(ruleset, ctx)

    def _session(self, ruleset: Any, ctx: _Context, facts: Sequence[Fact]) -> SessionResult:
        posted = [{**fact, "sid": ctx.sid, "id": str(next(ctx.ids))} for fact in [*facts, {"t": _END}]]
        code, handle = self._native.assert_facts(ruleset._handle, "[" + ",".join(map(_fact_text, posted)) + "]")
        if code != 0:  # 1: not handled (the __end__ rule makes that impossible); 2: seen before; 3: deferred
            raise DurableError(f"durable-rules did not take the facts of session {ctx.sid} (code {code})")
        try:
            self._dispatch(ruleset, ctx, handle)
        except DurableError:
            raise
        except Exception as exc:  # the native engine's error, or its JSON not as expected
            raise DurableError(f"durable-rules failed: {exc!r}") from exc
        if ctx.errors:
            raise DurableError(f"an action failed in durable-rules: {ctx.errors[0]!r}") from ctx.errors[0]
        state = ruleset.get_state(ctx.sid)
        if "exception" in state:
            raise DurableError(f"durable-rules recorded an exception: {str(state['exception'])[:500]}")
        if ctx.fired.count(_END) != 1:
            raise DurableError(f"the end of session {ctx.sid} was not reached once (the derivation is incomplete)")
        found = [_without_id(f) for f in _loads(self._native.get_facts(ruleset._handle, ctx.sid))
                 if f.get("t") != _END]
        return SessionResult(found, [name for name in ctx.fired if name != _END])

    def _dispatch(self, ruleset: Any, ctx: _Context, handle: Any) -> None:
        """Run every action the session's facts trigger, on this thread, until none is left.

        What durable's ``Ruleset.do_actions`` does for synchronous actions, without its per-action
        overhead (a closure with two clock readings, the unchanged state serialised again for each
        action, the standard library's JSON): durable-rules' native engine still matches every
        fact and chooses every action; this loop only runs them and hands back the state."""
        native, rs = self._native, ruleset._handle
        started = native.start_action_for_state(rs, handle)
        if not started:
            return
        state_text, message = started[0], started[1]
        session = _Session(_loads(state_text).get("sid"))
        actions = ruleset._actions
        while message:
            rule_name, frames = next(iter(_loads(message).items()))
            try:
                actions[rule_name]._func(_Call(session, frames, native, rs))
            except Exception as exc:  # as durable does, the session goes on; the caller gets the first error
                if not any(e is exc for e in ctx.errors):
                    ctx.errors.append(exc)
            try:
                native.update_state(rs, state_text)
                message = native.complete_and_start_action(rs, handle)
            except native.error:
                native.abandon_action(rs, handle)  # as durable's dispatch does
                raise

    def _delete(self, ruleset: Any, ctx: _Context) -> None:
        sid = ctx.sid
        if not self._has_state(ruleset, sid):
            self._open.discard(sid)
            return
        if _END not in ctx.fired:
            # durable-rules 2.0.28 crashes the process when it deletes a session in which no action
            # ran: leave this one (open_sessions() counts it) rather than crash
            return
        ruleset.delete_state(sid)
        if self._has_state(ruleset, sid):
            raise DurableError(f"the state of session {sid} survived its deletion")
        self._open.discard(sid)


_END = "__end__"
_CATCH_ALL = "__catch_all__"
_NEVER = "__never__"


def _without_id(fact: Mapping[str, Any]) -> dict[str, Any]:
    """A fact as its rules and callers see it: without the ``id`` the runtime gave it."""
    return {k: v for k, v in fact.items() if k != "id"}


def _loads(text: str | bytes) -> Any:
    """JSON text durable-rules wrote, read with orjson (the standard library's ``json`` where
    orjson refuses it: its integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _fact_text(fact: Fact) -> str:
    """:func:`dumps` of a flat fact, by orjson when every value is text :func:`dumps` takes as it is or
    a whole number durable compares exactly (the same text); anything else goes to :func:`dumps`."""
    for v in fact.values():
        kind = type(v)
        if kind is str:
            if _PLAIN_TEXT.fullmatch(v) is None:
                return dumps(fact)
        elif kind is not int or not -2**53 <= v <= 2**53:
            return dumps(fact)
    try:
        return orjson.dumps(fact).decode()
    except orjson.JSONEncodeError:  # a lone surrogate: dumps says what it makes of it
        return dumps(fact)


_PLAIN_TEXT = re.compile(r'[^"\\\x00-\x1f]*')


@dataclass(frozen=True)
class _Session:
    sid: str


class _Call:
    """What an action is given: its session (``s.sid``), the frames its rule matched (by alias), and
    ``assert_fact``, which hands a fact to durable-rules' engine at once (as durable's closure does)."""

    __slots__ = ("_handle", "_native", "frames", "s")

    def __init__(self, s: _Session, frames: dict[str, Any], native: Any, handle: Any) -> None:
        self.s = s
        self.frames = frames
        self._native = native
        self._handle = handle

    def assert_fact(self, fact: Fact) -> None:
        """Assert ``fact`` (with its ``sid`` and ``id``) into the session."""
        code = self._native.assert_fact(self._handle, _fact_text(fact))[0]
        if code in (1, 2):  # not handled (the catch-all rule makes that impossible); seen before
            raise DurableError(f"durable-rules did not take the fact {fact!r} (code {code})")


def _nothing(frames: Frames) -> list[Fact]:
    return []


_RUNTIME: Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def runtime() -> Runtime:
    """The process's runtime (created on first use).

    Raises:
        DurableUnavailableError: durable-rules is not installed, not importable, or another release.
    """
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = Runtime()
        return _RUNTIME
