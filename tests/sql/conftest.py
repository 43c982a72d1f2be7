"""A throwaway PostgreSQL server for the PostgreSQL form of the query.

``ECEI_POSTGRES`` may name a running server (``psql``'s connection options). Otherwise the
``postgres`` fixture starts one of its own: ``initdb`` into a temporary directory, listening on a
Unix socket there only (no TCP), stopped and removed when the session ends. As root it runs the
server as the ``postgres`` user, as PostgreSQL requires. Where no server can be had, the tests that
need one are skipped, except under CI (``CI`` set), where that is a failure: CI's machine has
PostgreSQL's server installed (Debian's postgresql-15), and the PostgreSQL form must be tested there.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

PORT = str(40000 + os.getpid() % 20000)  # one server per test process (xdist workers)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must test the PostgreSQL form on a real server: {reason}")
    pytest.skip(reason)


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        _unavailable("running as root, and no runuser to start PostgreSQL as its own user")
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """``psql``'s connection options for a PostgreSQL server (started here unless ECEI_POSTGRES names one)."""
    if shutil.which("psql") is None:
        _unavailable("no psql (PostgreSQL's client)")
    named = os.environ.get("ECEI_POSTGRES")
    if named:
        yield named
        return
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [p for p in [shutil.which("initdb")] if p]
    if not found:
        _unavailable("no PostgreSQL server (initdb) installed, and no ECEI_POSTGRES")
    bin_dir = os.path.dirname(found[-1])
    home = tempfile.mkdtemp(prefix="ecei-pg-")
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    data = os.path.join(home, "data")
    run = _as_server_user
    subprocess.run(run([f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]),
                   check=True, capture_output=True)
    subprocess.run(run([f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(home, "log"), "-w", "-o",
                        f"-k {home} -p {PORT} -c listen_addresses='' -c fsync=off", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"-h {home} -p {PORT} -U postgres"
    finally:
        subprocess.run(run([f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True,
                       check=False)
        shutil.rmtree(home, ignore_errors=True)
