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
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from vetcore.batch.tasks import TargetOutcome, sector_task, target_task
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


def run_processes(jobs: Sequence[TargetJob], workers: int, scheduler: str | None) -> Iterator[TargetOutcome]:
    """A local :class:`~concurrent.futures.ProcessPoolExecutor` with ``workers`` processes.

    On one machine a target's sectors and its aggregation run in the same
    worker, so pixel data never travel between processes.  Workers are started
    with ``spawn``: each begins empty rather than as a copy of the driver.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        with single_threaded_workers():  # workers start on the first submissions
            futures = [pool.submit(run_target_job, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(jobs: Sequence[TargetJob], workers: int, scheduler: str | None) -> Iterator[TargetOutcome]:
    """Dask distributed: ``scheduler`` address of a running cluster, else a loopback LocalCluster."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError("--executor dask needs dask.distributed: pip install 'vetcore[dask]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
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
        futures = []
        for job in jobs:
            sectors = [client.submit(sector_task, *job.sector_args(s), pure=False) for s in job.sources]
            futures.append(client.submit(target_task, job.candidate, sectors, *job.target_args(), pure=False))
        for future in as_completed(futures):
            yield future.result()
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
