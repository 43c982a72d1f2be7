"""The hazards the backend guards against are real in durable-rules 2.0.28 itself.

Run in a subprocess (the raw library would leave timer threads and undeleted sessions behind):
a plain ``Host`` starts timer threads; a post that matches no rule raises; a two-parameter action
is run as asynchronous, so durable's completion never comes; an exception in an action only lands
in the session state; the 1,025th undeleted session fails with MemoryError; deleting a session
in which no action ran kills the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, threading, time
    from durable import engine

    class Quiet(engine.Host):
        def _run(self):
            pass

    out = {}
    before = threading.active_count()
    engine.Host()
    time.sleep(0.3)
    out["timers"] = sum(isinstance(t, threading.Timer) for t in threading.enumerate())

    def act(c):
        c.assert_fact({"t": "out"})

    def sink():  # durable deletes "run" from the definition it is given: a fresh one each time
        return {"all": [{"a": {"t": "out"}}, {"b": {"t": "never"}}], "run": act}
    host = Quiet()
    host.register_rulesets({"one": {"r": {"all": [{"m": {"t": "in"}}], "run": act}, "s": sink()}})
    try:
        host.assert_fact("one", {"sid": "a", "t": "nobody"})
        out["unhandled"] = "no error"
    except engine.MessageNotHandledException:
        out["unhandled"] = "raised"

    def boom(c):
        raise ValueError("boom")

    host.register_rulesets({"boom": {"r": {"all": [{"m": {"t": "in"}}], "run": boom}}})
    state = host.assert_fact("boom", {"sid": "b", "t": "in"})
    out["swallowed"] = "boom" in str(state.get("exception", ""))

    completions = []
    def two(c, extra=1):
        c.assert_fact({"t": "out"})

    host.register_rulesets({"two": {"r": {"all": [{"m": {"t": "in"}}], "run": two}, "s": sink()}})
    ruleset = host.get_ruleset("two")
    out["asynchronous"] = ruleset._actions["r"]._sync is False
    handle = ruleset.assert_fact({"sid": "c", "t": "in"})
    ruleset.do_actions(handle, lambda error, result: completions.append(error))
    out["completed"] = len(completions)

    try:
        host.get_facts("one", "a")
        out["sessions_before"] = 1  # the unhandled post still opened a session
    except Exception:
        out["sessions_before"] = 0
    out["memory_error_at"] = None
    for i in range(1100):
        try:
            host.assert_fact("one", {"sid": f"s{i}", "t": "in"})
        except MemoryError:
            out["memory_error_at"] = i
            break
    print(json.dumps(out))
""")


def test_the_hazards_are_real_in_raw_durable_rules(durable_runtime: object) -> None:
    """Raw durable-rules shows every hazard the runtime guards against (so the guards are needed)."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["timers"] >= 2  # _d_timer and _t_timer
    assert out["unhandled"] == "raised"
    assert out["swallowed"] is True
    assert out["asynchronous"] is True
    assert out["completed"] == 0  # the rest of the derivation never runs
    assert out["memory_error_at"] is not None
    assert out["sessions_before"] + out["memory_error_at"] == 1024  # the 1,025th session fails


CRASH = textwrap.dedent("""
    from durable import engine

    class Quiet(engine.Host):
        def _run(self):
            pass

    def act(c):
        pass

    host = Quiet()
    host.register_rulesets({"r": {"a": {"all": [{"m": {"t": "x"}}], "run": act},
                                  "b": {"all": [{"m": {"$ex": {"t": 1}}}, {"n": {"t": "never"}}], "run": act}}})
    ruleset = host.get_ruleset("r")
    host.assert_fact("r", {"sid": "s", "t": "no action for this"})  # handled (rule b's first frame), no action
    print("posted", flush=True)
    ruleset.delete_state("s")
    print("deleted", flush=True)
""")


def test_deleting_a_session_in_which_no_action_ran_crashes_raw_durable_rules(durable_runtime: object) -> None:
    """Found while building the backend: raw durable-rules kills the process (SIGSEGV) when it deletes a
    session whose post ran no action; the runtime therefore ends every session with an action."""
    done = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True, timeout=120, check=False)
    assert "posted" in done.stdout
    assert "deleted" not in done.stdout
    assert done.returncode < 0  # killed by a signal
