"""How many worker processes a batch may start: no more than the cores this process may run
on, nor than the memory available holds.

A worker costs the interpreter, the library, the versions it compiles and their memo tables
(bounded: :data:`ecei_rules.engine.text.MEMO_BYTES` per version); :data:`WORKER_BYTES` is a
deliberately generous estimate of that. ``--jobs 64`` on two cores starts two workers, with a
note saying so.

:func:`ordered_map` runs the pools. What a worker builds once (the versions it decides with, a
resolver) is an object of the caller's, made by the pool's ``setup`` in each worker and handed
to ``work`` with every chunk. A process pool calls its initialiser and its task by name, so that
object has to wait between the two in a place the process holds: :data:`_worker`, this module's
one slot, written only by the pool's initialiser in a worker process (never in the process that
starts the pool), is that place; no other module of the package keeps worker state.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")

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


#: The object the pool's ``setup`` built in this process when it is a pool worker (None elsewhere):
#: the one process-level slot of the package, owned by :func:`ordered_map`'s pools.
_worker: Any = None


def _start_worker(setup: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """A pool worker's initialiser: build the worker's object once, in the worker process."""
    global _worker
    _worker = setup(*args)


def _run_chunk(work: Callable[[Any, list[T]], list[R]], chunk: list[T]) -> list[R]:
    """A pool's task: ``work`` on a chunk, with the object this worker built."""
    return work(_worker, chunk)


def ordered_map(work: Callable[[S, list[T]], list[R]], items: Iterable[T], *, workers: int, chunk_size: int,
                setup: Callable[..., S], setup_args: tuple[Any, ...] = (),
                size: Callable[[T], int] | None = None, max_size: int | None = None) -> Iterator[R]:
    """``work(worker, chunk)`` over the items in chunks, on a pool of ``workers`` processes, the
    results in input order.

    The input is streamed: at most a few chunks per worker are in flight, each of at most
    ``chunk_size`` items and, with ``size``, about ``max_size`` of what it measures (so long items
    make shorter chunks). ``setup(*setup_args)`` runs once in each worker and builds the object
    (``worker``) handed to ``work`` with each of its chunks. ``setup`` and ``work`` must be
    module-level functions or classes (they are pickled by name); ``work`` returns one result per
    item of its chunk. Under the ``fork`` start method ``setup_args`` reach the workers as they
    are; under ``spawn`` and ``forkserver`` they are pickled.
    """
    from concurrent.futures import ProcessPoolExecutor  # only a batch over several cores starts processes

    pending: deque[Future[list[R]]] = deque()
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(setup, setup_args)) as pool:
        chunk: list[T] = []
        weight = 0
        for item in items:
            chunk.append(item)
            if size is not None:
                weight += size(item)
            if len(chunk) >= chunk_size or (max_size is not None and weight > max_size):
                pending.append(pool.submit(_run_chunk, work, chunk))
                chunk, weight = [], 0
                while len(pending) > 3 * workers:
                    yield from pending.popleft().result()
        if chunk:
            pending.append(pool.submit(_run_chunk, work, chunk))
        while pending:
            yield from pending.popleft().result()
