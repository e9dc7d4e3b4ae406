"""``lightkurve.TargetPixelFile`` objects (and collections of them) passed through the Python API.

A lightkurve TPF keeps the FITS ``HDUList`` it was read from (``tpf.hdu``), so it
is converted by the same code as a file on disk; lightkurve itself is not
imported.  The stamp holds exactly the cadences the TPF's own ``quality_mask``
keeps (the ``quality_bitmask`` the user gave lightkurve, and any slicing), and
vetcore's quality preset is not applied on top: a TPF read with
``quality_bitmask="hard"`` is vetted on the same cadences lightkurve shows.
A ``TargetPixelFileCollection`` becomes one stamp per TPF.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vetcore.errors import DataError
from vetcore.loaders.tpf_fits import stamp_from_hdulist
from vetcore.model import LoadOptions, Stamp

__all__ = ["accepts", "load"]

_PER_CADENCE = ("time", "flux", "flux_err", "quality", "background", "pos_corr")


def _class_names(source: Any) -> list[str]:
    return [cls.__name__ for cls in type(source).__mro__]


def _is_tpf(source: Any) -> bool:
    return "TargetPixelFile" in _class_names(source) and hasattr(source, "hdu")


def _is_collection(source: Any) -> bool:
    return "TargetPixelFileCollection" in _class_names(source)


def accepts(source: Any) -> bool:
    """A lightkurve ``*TargetPixelFile`` with an ``hdu``, or a ``TargetPixelFileCollection``."""
    return _is_tpf(source) or _is_collection(source)


def _name(source: Any) -> str:
    return str(
        getattr(source, "path", None) or f"<{type(source).__name__} {getattr(source, 'targetid', '')}>"
    )


def _own_cadences(stamp: Stamp, tpf: Any) -> Stamp:
    """Keep the cadences of ``tpf.quality_mask`` and switch vetcore's own quality masking off."""
    mask = getattr(tpf, "quality_mask", None)
    if mask is None:
        return stamp
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (stamp.n_cadences,):
        raise DataError(
            _name(tpf),
            f"quality_mask has {mask.size} entries but the TPF table has {stamp.n_cadences} rows",
        )
    changes: dict[str, Any] = {
        key: np.asarray(getattr(stamp, key))[mask] for key in _PER_CADENCE if getattr(stamp, key) is not None
    }
    note = (
        f"lightkurve quality_bitmask={getattr(tpf, 'quality_bitmask', '?')!r}: "
        f"{int(mask.sum())} of {mask.size} cadences kept"
    )
    return stamp.replace(**changes, quality_bitmask=0, meta={**stamp.meta, "quality": note})


def load(source: Any, options: LoadOptions) -> list[Stamp]:
    if _is_collection(source):
        items = list(source)
        bad = [type(t).__name__ for t in items if not _is_tpf(t)]
        if bad:
            raise DataError(_name(source), f"collection holds non-TPF items: {', '.join(bad)}")
        return [stamp for tpf in items for stamp in load(tpf, options)]
    name = _name(source)
    try:
        stamp = stamp_from_hdulist(source.hdu, name, options)
    except DataError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise DataError(name, f"cannot convert the lightkurve object ({type(exc).__name__}: {exc})") from None
    return [_own_cadences(stamp, source)]
