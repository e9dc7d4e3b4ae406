"""Builtin loader plugin: the data formats vetcore reads out of the box."""

from __future__ import annotations

from collections.abc import Callable

from vetcore import API_VERSION, Loader, hookimpl
from vetcore.loaders import lightkurve_tpf, mast, npz, tpf_fits

VETCORE_API = API_VERSION

LOADERS = [
    Loader(
        "tpf-fits",
        accepts=tpf_fits.accepts,
        load=tpf_fits.load,
        priority=10,
        summary="SPOC TESS, Kepler and K2 target pixel files and TESScut cut-outs (.fits, .fits.gz)",
    ),
    Loader(
        "npz", accepts=npz.accepts, load=npz.load, priority=10, summary="numpy .npz stamps with a WCS header"
    ),
    Loader(
        "lightkurve",
        accepts=lightkurve_tpf.accepts,
        load=lightkurve_tpf.load,
        priority=10,
        summary="lightkurve TargetPixelFile objects (Python API)",
    ),
    Loader(
        "mast",
        accepts=mast.accepts,
        load=mast.load,
        priority=0,
        summary="TIC/KIC/EPIC identifiers: MAST download into a cache, or the cache when offline",
    ),
]


@hookimpl
def vetcore_register_loaders(register: Callable[[Loader], None]) -> None:
    for loader in LOADERS:
        register(loader)
