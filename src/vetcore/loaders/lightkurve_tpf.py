"""``lightkurve.TargetPixelFile`` objects passed through the Python API.

A lightkurve TPF keeps the FITS ``HDUList`` it was read from (``tpf.hdu``), so it
is converted by the same code as a file on disk; lightkurve itself is not
imported.
"""

from __future__ import annotations

from typing import Any

from vetcore.errors import DataError
from vetcore.loaders.tpf_fits import stamp_from_hdulist
from vetcore.model import LoadOptions, Stamp

__all__ = ["accepts", "load"]


def accepts(source: Any) -> bool:
    """Any object whose class is a lightkurve ``*TargetPixelFile`` with an ``hdu``."""
    names = [cls.__name__ for cls in type(source).__mro__]
    return "TargetPixelFile" in names and hasattr(source, "hdu")


def load(source: Any, options: LoadOptions) -> list[Stamp]:
    name = getattr(source, "path", None) or f"<{type(source).__name__} {getattr(source, 'targetid', '')}>"
    try:
        return [stamp_from_hdulist(source.hdu, str(name), options)]
    except DataError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise DataError(name, f"cannot convert the lightkurve object ({type(exc).__name__}: {exc})") from None
