"""V08 run time on TOI-5807 sector 83 (17326 cadences × 13×11) against the time to load the stamp.

Run: ``python benchmarks/bench_v08.py [SHARED_DATA_DIR]``; prints best-of-5 times,
the ratio V08 / load (target: < 1) and the throughput in cadences per second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import vetcore
from vetcore.testing import run_check


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    base = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
    path = base / "tpf" / "toi5807_tic188646744" / "sector83_tpf.npz"
    target = vetcore.Target("TIC 188646744", ra=308.5672083, dec=43.3606889)
    eph = vetcore.Ephemeris(period=14.2423724, t0=3540.26317, duration_hours=4.046)
    (stamp,) = vetcore.load(path, target=target)
    load_s = best_of(lambda: vetcore.load(path, target=target))
    for baseline in ("local", "global"):
        v08_s = best_of(lambda baseline=baseline: run_check("V08", stamp, eph, baseline=baseline))
        print(
            f"V08 baseline={baseline:6s} {v08_s * 1e3:7.1f} ms   load {load_s * 1e3:6.1f} ms   "
            f"ratio {v08_s / load_s:4.2f}   {stamp.n_cadences / v08_s / 1e3:7.0f} k cadences/s"
        )


if __name__ == "__main__":
    main()
