"""``.npz`` pixel stamps (the layout exported by tess-vetter's tutorials and by vetcore).

Required arrays: ``time`` (n,), ``flux`` (n, rows, cols), ``aperture_mask``
(rows, cols) and ``wcs_header`` (a FITS-style WCS header as a dict).  Optional:
``flux_err``, ``quality``, ``background``, and scalar metadata ``target_id``,
``ra``, ``dec``, ``sector``, ``mission``, ``cadence_seconds``.  When ``sector``
or ``target_id`` are absent they are read from the path (``sector83``,
``s83``, ``tic188646744``).  Times are BTJD (TESS) or BKJD (Kepler/K2).

``wcs_header`` is stored by :func:`numpy.save` as a pickled object array.  It is
read with :class:`RestrictedUnpickler`, which can rebuild only a numpy object
array holding plain ``dict``/``str``/number values; anything else is refused.
General pickle loading (``allow_pickle=True``) is never used on user files.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vetcore.errors import DataError
from vetcore.loaders.checks import override_target, validated
from vetcore.mission import MISSIONS, resolve_bitmask
from vetcore.model import LoadOptions, Stamp, Target

__all__ = ["REQUIRED", "RestrictedUnpickler", "accepts", "load", "read_header_dict"]

REQUIRED = ("time", "flux", "aperture_mask", "wcs_header")


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only what :func:`numpy.save` writes for an object array of plain values.

    Allowed globals: numpy's array reconstructor, ``ndarray`` and ``dtype``.  Dicts,
    lists, strings and numbers need no globals; any other class or function
    (the way a malicious pickle runs code) raises :class:`pickle.UnpicklingError`.
    """

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def read_header_dict(raw: bytes, source: str) -> dict[str, Any]:
    """The dict stored in a ``.npy`` member as a 0-d object array, read safely."""
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            _shape, _fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            _shape, _fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        if dtype.hasobject:
            value = RestrictedUnpickler(stream).load()
        else:
            raise DataError(source, "wcs_header must be a dict of FITS keywords, got a numeric array")
    except pickle.UnpicklingError as exc:
        raise DataError(
            source, f"wcs_header: {exc} (only a plain dict of strings and numbers is accepted)"
        ) from None
    except (ValueError, EOFError) as exc:
        raise DataError(source, f"wcs_header is not a valid .npy entry ({exc})") from None
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype == object:
        value = value.item()
    if not isinstance(value, dict) or not all(isinstance(k, str) and _plain(v) for k, v in value.items()):
        raise DataError(source, "wcs_header must be a dict of FITS keywords with string or number values")
    return value


def accepts(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike)) and str(source).lower().endswith(".npz")


def _from_path(path: Path, pattern: str) -> int | None:
    """A number from the file name, else from its folder's name (``tic188646744/sector83_tpf.npz``)."""
    for part in (path.name, path.parent.name):
        match = re.search(pattern, part.lower())
        if match:
            return int(match.group(1))
    return None


def _scalar(arrays: dict[str, np.ndarray], key: str) -> Any:
    if key not in arrays:
        return None
    value = arrays[key]
    return value.item() if value.shape == () else None


def load(source: Any, options: LoadOptions) -> list[Stamp]:
    path = Path(source)
    name = str(path)
    if not path.is_file():
        raise DataError(name, "no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(m).stem: m for m in archive.namelist() if m.endswith(".npy")}
            missing = [k for k in REQUIRED if k not in members]
            if missing:
                raise DataError(
                    name, f"missing arrays: {', '.join(missing)} (has: {', '.join(sorted(members))})"
                )
            header = read_header_dict(archive.read(members["wcs_header"]), name)
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in members if k != "wcs_header"}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(name, f"not a readable .npz archive ({exc})") from None
    except ValueError as exc:
        raise DataError(
            name, f"cannot read arrays ({exc}); object arrays other than wcs_header are refused"
        ) from None
    return [validated(_stamp(arrays, header, path, options))]


def _stamp(arrays: dict[str, np.ndarray], header: dict[str, Any], path: Path, options: LoadOptions) -> Stamp:
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    name = str(path)
    mission = str(_scalar(arrays, "mission") or "TESS")
    if mission not in MISSIONS:
        raise DataError(name, f"mission must be TESS, Kepler or K2, got {mission!r}")
    sector = _scalar(arrays, "sector") or _from_path(path, r"(?:sector|[_-]s|^s)0*(\d+)")
    if sector is None:
        raise DataError(
            name, "no 'sector' array and no sector number (e.g. 'sector83', '_s83') in the file name"
        )
    tic = _from_path(path, r"tic0*(\d+)")
    ident = _scalar(arrays, "target_id") or (f"TIC {tic}" if tic else path.stem)
    ra, dec = _scalar(arrays, "ra"), _scalar(arrays, "dec")
    target = override_target(Target(id=str(ident), ra=ra, dec=dec), options.target)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header, naxis=2)
    except Exception as exc:  # astropy raises many types for a bad header
        raise DataError(name, f"wcs_header is not a valid WCS ({type(exc).__name__}: {exc})") from None
    try:
        return Stamp(
            mission=mission,
            sector=int(sector),
            time=np.asarray(arrays["time"], dtype=np.float64),
            flux=np.asarray(arrays["flux"], dtype=np.float32),
            wcs=wcs,
            target=target,
            aperture_mask=arrays["aperture_mask"],
            flux_err=None if "flux_err" not in arrays else np.asarray(arrays["flux_err"], dtype=np.float32),
            quality=None if "quality" not in arrays else np.asarray(arrays["quality"], dtype=np.int64),
            background=None
            if "background" not in arrays
            else np.asarray(arrays["background"], dtype=np.float32),
            cadence_seconds=float(_scalar(arrays, "cadence_seconds") or _cadence(arrays["time"], mission)),
            time_system=MISSIONS[mission].time_system,
            bjd_ref=MISSIONS[mission].bjd_offset,
            quality_bitmask=resolve_bitmask(options.quality_bitmask, mission),
            source=name,
            meta={"product": "npz stamp"},
        )
    except ValueError as exc:
        raise DataError(name, str(exc).removeprefix(f"{name}: ")) from None


def _cadence(time: np.ndarray, mission: str) -> float:
    """Median cadence (s); gaps between cut windows do not affect the median."""
    dt = np.diff(time[np.isfinite(time)])
    dt = dt[dt > 0]
    return float(np.median(dt) * 86400.0) if dt.size else MISSIONS[mission].cadence_seconds
