"""Batch throughput: 50 synthetic targets × 3 sectors on 1 and 2 worker processes and on Dask.

Run: ``python benchmarks/bench_batch.py [N_TARGETS]``.  Prints sector-checks per
second overall (with worker start-up, ~1.5 s of imports per spawned worker) and in
the steady state, the speed-up from 1 to 2 workers (aim: >= 1.7 on two free cores), and
the peak resident memory of a worker against the largest stamp's size (aim:
within 3x; the interpreter and libraries are a fixed part of it, printed too).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from vetcore.batch import run_batch
from vetcore.batch.tasks import _peak_rss_mb
from vetcore.testing import SyntheticStar, make_sectors, save_npz

STARS = (SyntheticStar(flux=3.0e4), SyntheticStar(east_arcsec=30.0, flux=1.5e4))


def make_table(folder: Path, n_targets: int) -> tuple[Path, float]:
    rows, largest = ["target,source,period,t0,duration"], 0.0
    for i in range(n_targets):
        cases = make_sectors(
            3, stars=STARS, transit_star=i % 2, snr=30, seed=i, target_id=f"T{i}", cadence_seconds=600.0
        )
        files = [save_npz(c.stamp, folder / f"t{i}_s{c.stamp.sector}.npz").name for c in cases]
        largest = max(
            [largest] + [c.stamp.flux.nbytes / 1e6 * 3 for c in cases]
        )  # flux, flux_err, background
        e = cases[0].ephemeris
        rows.append(f"T{i},{';'.join(files)},{e.period},{e.t0},{e.duration_hours}")
    table = folder / "candidates.csv"
    table.write_text("\n".join(rows) + "\n")
    return table, largest


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    base_rss = _peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        table, largest_mb = make_table(Path(tmp), n)
        print(
            f"{n} targets x 3 sectors; largest stamp arrays {largest_mb:.1f} MB; driver RSS {base_rss:.0f} MB"
        )
        rates = {}
        for label, executor, workers in (("1 process", "processes", 1), ("2 processes", "processes", 2),
                                         ("Dask, 2 workers", "dask", 2)):  # fmt: skip
            stamps: list[tuple[float, int]] = []

            def tick(outcome, stamps=stamps):
                stamps.append((time.perf_counter(), outcome.n_sector_checks))

            result = run_batch(
                table, Path(tmp) / label.replace(" ", "_"), executor=executor, workers=workers, progress=tick
            )
            rate = result.sector_checks / result.elapsed_s
            # steady state: from the first finished target to the last (worker start-up excluded)
            steady = sum(n for _, n in stamps[1:]) / (stamps[-1][0] - stamps[0][0])
            rates[label] = steady
            print(
                f"{label:16s} {result.elapsed_s:6.1f} s  {rate:6.1f} sector-checks/s overall, "
                f"{steady:6.1f} steady  "
                f"peak worker RSS {result.peak_rss_mb:6.0f} MB "
                f"({result.peak_rss_mb / largest_mb:5.1f}x the stamp)"
            )
        print(f"steady-state speed-up 1 -> 2 processes: {rates['2 processes'] / rates['1 process']:.2f}x")
        print(f"Dask / process pool (2 workers): {rates['Dask, 2 workers'] / rates['2 processes']:.2f}x")


if __name__ == "__main__":
    main()
