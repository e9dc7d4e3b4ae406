"""Load time of vetcore's loaders against a bare astropy / numpy read of the same arrays.

Run: ``python benchmarks/bench_load.py [SHARED_DATA_DIR]``.  Prints seconds per
load (best of N) and the ratio vetcore / bare (target: <= 1.3).
"""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

import numpy as np

import vetcore


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_fits(path: Path) -> None:
    from astropy.io import fits

    with fits.open(path) as hdul:
        data = hdul[1].data
        for name in ("TIME", "FLUX", "FLUX_ERR", "FLUX_BKG", "QUALITY", "POS_CORR1", "POS_CORR2"):
            np.asarray(data[name])


def bare_npz(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        names = [n[:-4] for n in archive.namelist() if n != "wcs_header.npy"]
    with np.load(path, allow_pickle=False) as npz:
        for name in names:
            npz[name]


def main() -> None:
    base = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data"
    tpf = base / "tpf" / "tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz"
    npz = base / "tpf" / "toi5807_tic188646744" / "sector83_tpf.npz"
    for label, path, bare in (("TOI-813 S5 SPOC TPF", tpf, bare_fits), ("TOI-5807 S83 npz", npz, bare_npz)):
        ours = best_of(lambda path=path: vetcore.load(path))
        ref = best_of(lambda path=path, bare=bare: bare(path))
        (stamp,) = vetcore.load(path)
        mb = stamp.flux.nbytes / 1e6
        print(
            f"{label:22s} {stamp.n_cadences:6d} cadences  vetcore {ours:6.3f} s  bare {ref:6.3f} s  "
            f"ratio {ours / ref:4.2f}  ({mb / ours:6.1f} MB/s of flux)"
        )


if __name__ == "__main__":
    main()
