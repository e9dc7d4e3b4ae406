"""What resuming on content costs: a file's content digest against stat-based identity and a load.

Run: ``python benchmarks/bench_resume.py [SHARED_DATA_DIR]``.  For each real pixel
file prints the digest throughput (MB/s), the time of a ``stat`` (what a path +
size + mtime + inode key would cost instead) and the digest time as a fraction of
loading the same file with vetcore (what a resumed batch pays per source, once,
against what it saves by skipping the target).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import vetcore
from vetcore.report import _DIGESTS, content_digest
from vetcore.testing.data import find_shared_data

FILES = (
    "tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz",
    "tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz",
    "tpf/toi5807_tic188646744/sector83_tpf.npz",
)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fresh_digest(path: Path) -> None:
    _DIGESTS.clear()  # the in-process cache would make every repeat free
    content_digest(path)


def main() -> None:
    base = Path(sys.argv[1]) if len(sys.argv) > 1 else find_shared_data()
    if base is None:
        sys.exit("shared data folder not found; pass it as the first argument")
    print(f"{'file':58s} {'MB':>6s} {'digest MB/s':>11s} {'stat µs':>8s} {'digest/load':>11s}")
    for rel in FILES:
        path = base / rel
        size_mb = path.stat().st_size / 1e6
        digest_s = best_of(lambda p=path: fresh_digest(p))
        stat_s = best_of(lambda p=path: os.stat(p), repeat=100)
        load_s = best_of(lambda p=path: vetcore.load(p))
        print(
            f"{path.name:58s} {size_mb:6.1f} {size_mb / digest_s:11.0f} {stat_s * 1e6:8.1f} "
            f"{digest_s / load_s:11.2f}"
        )


if __name__ == "__main__":
    main()
