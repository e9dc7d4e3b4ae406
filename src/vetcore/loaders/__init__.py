"""The core's data loaders, one module per source format.

They are registered by the builtin plugin :mod:`vetcore.builtin.loaders` through
``vetcore_register_loaders``, exactly as a third-party loader would be:

* :mod:`~vetcore.loaders.tpf_fits` — SPOC TESS, Kepler and K2 target pixel files
  and TESScut/astrocut FFI cut-outs (read with astropy, no lightkurve needed);
* :mod:`~vetcore.loaders.npz` — ``.npz`` stamps with a restricted reader for the
  pickled ``wcs_header``;
* :mod:`~vetcore.loaders.lightkurve_tpf` — ``lightkurve.TargetPixelFile`` objects;
* :mod:`~vetcore.loaders.mast` — ``TIC``/``KIC``/``EPIC`` identifiers, downloaded
  into a cache folder (or found there when offline).

Shared pieces: :mod:`~vetcore.loaders.checks` (sanity checks every loader applies),
:mod:`~vetcore.loaders.files` (what a path is; bounded decompression) and
:mod:`~vetcore.loaders.tesscut` (an aperture for stamps without one); mission facts
(time systems, quality bitmasks) come from :mod:`vetcore.mission`.
"""
