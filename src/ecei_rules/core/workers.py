"""How many worker processes a batch may start: no more than the cores this process may run
on, nor than the memory available holds.

A worker costs the interpreter, the library, the versions it compiles and their memo tables
(bounded: :data:`ecei_rules.engine.text.MEMO_BYTES` per version); :data:`WORKER_BYTES` is a
deliberately generous estimate of that. ``--jobs 64`` on two cores starts two workers, with a
note saying so.
"""

from __future__ import annotations

import os

#: The resident memory one worker is assumed to need (interpreter, library, compiled versions,
#: memo tables, chunks in flight), for the cap by available memory.
WORKER_BYTES = 256 * 1024 * 1024


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system tells it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes of memory available for new processes (``MemAvailable`` of ``/proc/meminfo``), or
    None where the system does not say."""
    try:
        with open("/proc/meminfo", "rb") as handle:
            for line in handle.read(65536).splitlines():
                if line.startswith(b"MemAvailable:"):
                    parts = line.split()
                    return int(parts[1]) * 1024 if len(parts) >= 2 and parts[1].isdigit() else None
    except OSError:
        return None
    return None


def worker_count(requested: int | None, *, cores: int | None = None, memory: int | None = -1) -> tuple[int, str | None]:
    """The workers to start for ``requested`` (None: one per core), and a note when that is
    fewer than asked: at most one per usable core, and at most as many as the available memory
    holds at :data:`WORKER_BYTES` each (at least one). ``cores`` and ``memory`` override what
    the system says (for tests; ``memory=None``: unknown, no memory cap)."""
    if requested is not None and requested < 1:
        raise ValueError(f"the number of worker processes must be at least 1, got {requested}")
    cores = usable_cores() if cores is None else max(1, cores)
    memory = available_memory() if memory == -1 else memory
    by_memory = max(1, memory // WORKER_BYTES) if memory is not None else None
    wanted = cores if requested is None else requested
    workers = min(wanted, cores, by_memory if by_memory is not None else wanted)
    if workers >= wanted:
        return workers, None
    reasons = []
    if cores < wanted:
        reasons.append(f"{cores} usable core(s)")
    if by_memory is not None and by_memory < wanted:
        reasons.append(f"{(memory or 0) // (1024 * 1024):,} MiB of memory available at about "
                       f"{WORKER_BYTES // (1024 * 1024)} MiB per worker")
    return workers, f"using {workers} worker process(es), not {wanted}: {' and '.join(reasons)}"
