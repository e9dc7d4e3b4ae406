"""Derive the demo data embedded in vetcore from the project's shared real data.

Run from the repository root with the shared data beside it::

    python scripts/make_demo_data.py ../shared/data/tpf

TOI-5807 (TIC 188646744), TESS sector 83: the SPOC 2-min pixels exported by the
tess-vetter tutorial (``sector83_tpf.npz``) are cut to windows of ±WINDOW_DAYS
around the two transits in the sector and stored in the same npz layout that
users' files have (so the demo goes through the normal loader).  FLUX is kept
as float32; FLUX_ERR is stored as float16 (3 significant digits are ample for
an uncertainty).  The WCS dict is stored as a plain dict of strings and numbers.

KOI-608 (KIC 5562784), Kepler Q10 long cadence: the MAST target pixel file is
rewritten with only the columns vetcore reads (TIME, FLUX, FLUX_ERR, FLUX_BKG,
QUALITY, POS_CORR1/2) and all original headers.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits

PERIOD, T0, DURATION_H = 14.2423724, 3540.26317, 4.046
WINDOW_DAYS = 2.0
OUT = Path(__file__).resolve().parents[1] / "src" / "vetcore" / "demo" / "data"
KEEP_COLUMNS = (
    "TIME",
    "TIMECORR",
    "CADENCENO",
    "FLUX",
    "FLUX_ERR",
    "FLUX_BKG",
    "QUALITY",
    "POS_CORR1",
    "POS_CORR2",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def toi5807(src: Path) -> Path:
    # The shared file is trusted project data; users' files never go through pickle.
    with np.load(src, allow_pickle=True) as d:
        time = d["time"]
        mids = T0 + PERIOD * np.arange(
            np.ceil((time.min() - T0) / PERIOD), np.floor((time.max() - T0) / PERIOD) + 1
        )
        keep = np.zeros(time.size, bool)
        for mid in mids:
            keep |= np.abs(time - mid) <= WINDOW_DAYS
        wcs_header = {
            str(k): (v if isinstance(v, str) else float(v)) for k, v in d["wcs_header"].item().items()
        }
        dest = OUT / "toi5807_tic188646744_s83.npz"
        np.savez_compressed(
            dest,
            time=time[keep],
            flux=d["flux"][keep].astype("<f4"),
            flux_err=d["flux_err"][keep].astype("<f2"),
            aperture_mask=d["aperture_mask"],
            quality=d["quality"][keep].astype("<i4"),
            wcs_header=np.array(wcs_header, dtype=object),
        )
    print(f"{dest.name}: {keep.sum()} of {time.size} cadences, transits at {np.round(mids, 3)}")
    return dest


def koi608(src: Path) -> Path:
    dest = OUT / "kplr005562784-2011271113734_lpd-targ.fits.gz"
    with fits.open(src) as hdul:
        table = hdul[1]
        cols = [c for c in table.columns if c.name in KEEP_COLUMNS]
        new = fits.BinTableHDU.from_columns(cols, header=table.header)
        fits.HDUList([hdul[0].copy(), new, hdul[2].copy()]).writeto(dest, overwrite=True)
    print(f"{dest.name}: columns {[c.name for c in cols]}")
    return dest


def main(shared: str) -> None:
    root = Path(shared)
    OUT.mkdir(parents=True, exist_ok=True)
    for src, make in (
        (root / "toi5807_tic188646744" / "sector83_tpf.npz", toi5807),
        (root / "kepler" / "kplr005562784-2011271113734_lpd-targ.fits.gz", koi608),
    ):
        dest = make(src)
        print(
            f"  source sha256 {sha256(src)}\n"
            f"  output sha256 {sha256(dest)} ({dest.stat().st_size / 1e6:.2f} MB)"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/tpf")
