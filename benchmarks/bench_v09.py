"""Benchmark V09 (difference-image localization) against loading its stamp.

Run from the repository root::

    .venv/bin/python benchmarks/bench_v09.py [repeats]

Loads TOI-5807 sector 83 (``../shared/data/tpf/toi5807_tic188646744/sector83_tpf.npz``)
with :func:`vetcore.load`, runs V09 on it through the regular runner, and
prints the median wall time of each and their ratio.  V09 should cost less than
loading the data it analyses.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import vetcore
from vetcore import Ephemeris, Target
from vetcore.testing import run_check
from vetcore.testing.data import find_shared_data

RELPATH = "tpf/toi5807_tic188646744/sector83_tpf.npz"
TARGET = Target("TIC 188646744", ra=308.5672083, dec=43.3606889)
EPHEMERIS = Ephemeris(period=14.2423724, t0=3540.26317, duration_hours=4.046)


def _median_time(func: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main(repeats: int = 7) -> int:
    base = find_shared_data()
    if base is None or not (base / RELPATH).exists():
        print(f"shared data not found ({RELPATH}); nothing to benchmark")
        return 1
    path = str(base / RELPATH)
    stamps = vetcore.load(path, target=TARGET)  # warm-up: imports, plugin discovery
    run_check("V09", stamps[0], EPHEMERIS)
    t_load, stamps = _median_time(lambda: vetcore.load(path, target=TARGET), repeats)
    stamp = stamps[0]
    t_v09, result = _median_time(lambda: run_check("V09", stamp, EPHEMERIS), repeats)
    n, ny, nx = stamp.flux.shape
    print(f"TOI-5807 {stamp.label}: {n} cadences x {ny}x{nx} pixels, median of {repeats} runs")
    print(f"  load  {1e3 * t_load:8.1f} ms")
    print(f"  V09   {1e3 * t_v09:8.1f} ms   ({result.status}: {result.message})")
    print(f"  V09 / load = {t_v09 / t_load:.2f}  ->  {'OK' if t_v09 < t_load else 'SLOWER THAN LOADING'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 7))
