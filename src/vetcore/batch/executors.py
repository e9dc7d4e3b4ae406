"""Where batch tasks run: in-process, on a local process pool, or on Dask distributed.

Every executor receives the same plan — for each candidate, its sector tasks and
then its target task — and yields :class:`~vetcore.batch.tasks.TargetOutcome`
objects as targets finish.  The local process pool runs each target's tasks in
one worker (no pixel data between processes); Dask gets the whole graph at once
(one task per (target, source) plus one per target that depends on them), so a
large run spreads over a cluster without any scheduling of our own.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from vetcore.batch.tasks import TargetOutcome, failed_outcome, sector_task, target_task
from vetcore.errors import ConfigError
from vetcore.session import SessionSpec

__all__ = ["EXECUTORS", "TargetJob", "run_dask", "run_processes", "run_serial"]


@attrs.frozen(eq=False)
class TargetJob:
    """Everything needed to process one candidate: its sources, the driver's session
    (as a picklable spec), and where and how to write its reports."""

    candidate: Any
    sources: tuple[str, ...]
    spec: SessionSpec
    out_dir: str
    formats: tuple[str, ...]
    inputs_hash: str

    def sector_args(self, source: str) -> tuple[Any, ...]:
        return (self.candidate, source, self.spec)

    def target_args(self) -> tuple[Any, ...]:
        return (self.spec, self.out_dir, self.formats, self.inputs_hash)


#: Native thread pools (BLAS, OpenMP) are limited to one thread per worker: with one
#: worker per core, threaded BLAS calls in every worker oversubscribe the cores
#: (measured: 1.1x instead of 1.9x from one to two workers).
SINGLE_THREADED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def single_threaded_workers() -> Iterator[None]:
    """Environment for worker processes started inside the block (the user's settings win)."""
    saved = {k: os.environ.get(k) for k in SINGLE_THREADED}
    for key in SINGLE_THREADED:
        os.environ.setdefault(key, "1")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_target_job(job: TargetJob) -> TargetOutcome:
    """A whole target in one process: its sector tasks, then its target task."""
    outcomes = [sector_task(*job.sector_args(s)) for s in job.sources]
    return target_task(job.candidate, outcomes, *job.target_args())


def run_serial(jobs: Sequence[TargetJob], workers: int, scheduler: str | None) -> Iterator[TargetOutcome]:
    """One after the other in this process (for debugging)."""
    for job in jobs:
        yield run_target_job(job)


def _bind_to_parent(parent_pid: int, started: Any) -> None:
    """Worker initializer: die with the driver (Linux ``PR_SET_PDEATHSIG``), and keep the
    queue on which each task announces itself (:func:`_run_announced`)."""
    global _STARTED
    _STARTED = started
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the driver died before the line above took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1
_STARTED: Any = None


def _run_announced(index: int, job: TargetJob) -> TargetOutcome:
    """:func:`run_target_job`, after telling the driver which job this worker runs."""
    if _STARTED is not None:
        _STARTED.put(index)
    return run_target_job(job)


def _pool(workers: int) -> tuple[Any, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    started = context.SimpleQueue()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_bind_to_parent, initargs=(os.getpid(), started)
    )
    return pool, started


def _drain(queue: Any) -> set[int]:
    found = set()
    while not queue.empty():
        found.add(queue.get())
    return found


def _terminate(pool: Any) -> None:
    """Stop a pool's workers now (they may be writing), then release it."""
    for process in list(getattr(pool, "_processes", {}).values()):
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _pool_round(jobs: dict[int, TargetJob], workers: int) -> Iterator[tuple[int | None, Any]]:
    """Run ``jobs`` on one pool, yielding ``(index, outcome)`` as they finish.  If a worker
    dies, the pool breaks: the last item is ``(None, suspects)``, the jobs that had started
    and not finished (the dead worker's among them)."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    pool, started = _pool(workers)
    finished: set[int] = set()
    broken = True
    try:
        with single_threaded_workers():  # workers start on the first submissions
            futures = {pool.submit(_run_announced, i, job): i for i, job in jobs.items()}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except BrokenProcessPool:
                break
            finished.add(futures[future])
            yield futures[future], outcome
        else:
            broken = False
    finally:
        if broken:
            _terminate(pool)
        else:
            pool.shutdown(wait=True)
    if broken:
        yield None, _drain(started) - finished


def run_processes(jobs: Sequence[TargetJob], workers: int, scheduler: str | None) -> Iterator[TargetOutcome]:
    """A local :class:`~concurrent.futures.ProcessPoolExecutor` with ``workers`` processes.

    On one machine a target's sectors and its aggregation run in the same
    worker, so pixel data never travel between processes.  Workers are started
    with ``spawn`` (each begins empty rather than as a copy of the driver) and
    die with the driver (Linux ``PR_SET_PDEATHSIG``: a ``SIGKILL``/``SIGTERM`` of
    the driver leaves no worker running or writing).  When a worker dies (the
    OOM killer, a crash in native code) the pool breaks: the jobs that had
    started and not finished are run again one at a time, each in a fresh
    one-worker pool, so that only a job that kills its worker again fails (its
    outcome says so); the jobs that had not started go on in a new pool.
    """
    todo = dict(enumerate(jobs))
    while todo:
        suspects: set[int] = set()
        for index, item in _pool_round(todo, workers):
            if index is None:
                suspects = item
            else:
                del todo[index]
                yield item
        for index in sorted(suspects & set(todo)):
            job = todo.pop(index)
            alone = [item for i, item in _pool_round({index: job}, 1) if i is not None]
            yield alone[0] if alone else failed_outcome(job.candidate, WORKER_DIED)


#: Seconds to wait for a Dask scheduler given with ``--scheduler`` before giving up (exit 2).
SCHEDULER_TIMEOUT_S = 10

#: The error of a target whose worker process died twice while running it.
WORKER_DIED = "the worker process running this target died (killed by a signal, e.g. out of memory)"


def run_dask(jobs: Sequence[TargetJob], workers: int, scheduler: str | None) -> Iterator[TargetOutcome]:
    """Dask distributed: ``scheduler`` address of a running cluster, else a loopback LocalCluster."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("--executor dask needs dask.distributed: pip install 'vetcore[dask]'") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"--scheduler: cannot reach a Dask scheduler at {scheduler} ({exc})") from None
    else:
        with single_threaded_workers():
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
        client = Client(cluster)
    try:
        futures = {}
        for job in jobs:
            sectors = [client.submit(sector_task, *job.sector_args(s), pure=False) for s in job.sources]
            target = client.submit(target_task, job.candidate, sectors, *job.target_args(), pure=False)
            futures[target] = job
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # e.g. KilledWorker: the task's workers died too often
                problem = f"the Dask worker running this target failed ({type(exc).__name__}: {exc})"
                yield failed_outcome(futures[future].candidate, problem)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


EXECUTORS: dict[str, Callable[[Sequence[TargetJob], int, str | None], Iterator[TargetOutcome]]] = {
    "serial": run_serial,
    "processes": run_processes,
    "dask": run_dask,
}


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
