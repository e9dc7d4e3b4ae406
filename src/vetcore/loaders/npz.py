"""``.npz`` pixel stamps (the layout exported by tess-vetter's tutorials and by vetcore).

Required arrays: ``time`` (n,), ``flux`` (n, rows, cols) and ``wcs_header`` (a
FITS-style WCS header as a dict).  Optional: ``aperture_mask`` (rows, cols; when
missing or empty one is derived as for a TESScut cut-out, ``aperture_source =
"derived"``), ``flux_err``, ``quality``, ``background``, and scalar metadata ``target_id``,
``ra``, ``dec``, ``sector``, ``mission``, ``cadence_seconds``.  When ``sector``
or ``target_id`` are absent they are read from the path (``sector83``,
``s83``, ``tic188646744``).  Times are BTJD (TESS) or BKJD (Kepler/K2).

``wcs_header`` is stored by :func:`numpy.save` as a pickled object array.  It is
read with :class:`RestrictedUnpickler`, which can rebuild only a numpy object
array holding plain ``dict``/``str``/number values; anything else is refused.
General pickle loading (``allow_pickle=True``) is never used on user files.
Every array's declared size is checked against its entry before anything is
allocated, and the archive's total against the bounds of :mod:`vetcore.loaders.files`.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vetcore.errors import DataError
from vetcore.loaders.checks import override_target, position_origin, validated
from vetcore.loaders.files import check_inflation_ratio, check_regular_file
from vetcore.loaders.tesscut import with_aperture
from vetcore.mission import MISSIONS, resolve_bitmask
from vetcore.model import LoadOptions, Stamp, Target

__all__ = ["REQUIRED", "RestrictedUnpickler", "accepts", "load", "read_header_dict"]

REQUIRED = ("time", "flux", "wcs_header")


#: Largest ``wcs_header`` entry read (a WCS header is a few kB).
MAX_HEADER_BYTES = 1024**2
#: Largest object array the restricted unpickler rebuilds (``wcs_header`` is one dict: 0-d).
MAX_PICKLED_ELEMENTS = 16


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's pickle reconstructor, for a tiny :class:`_GuardedArray` only."""
    _check_size(shape)
    return np.ndarray.__new__(_GuardedArray, shape, dtype)


def _check_size(shape: Any) -> None:
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(d, int) and d >= 0 for d in dims) or math.prod(dims) > MAX_PICKLED_ELEMENTS:
        raise pickle.UnpicklingError(
            f"refusing an array of shape {shape} (at most {MAX_PICKLED_ELEMENTS} values)"
        )


class _GuardedArray(np.ndarray):
    """An ndarray whose pickled state may not ask for a large allocation."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise pickle.UnpicklingError("unexpected numpy array state")
        _check_size(state[1])
        super().__setstate__(state)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only what :func:`numpy.save` writes for a small object array of plain values.

    Allowed globals: numpy's array reconstructor (which builds arrays of at most
    :data:`MAX_PICKLED_ELEMENTS` elements, whatever shape the pickle asks for),
    ``ndarray`` and ``dtype``.  Dicts, lists, strings and numbers need no globals;
    any other class or function (the way a malicious pickle runs code) raises
    :class:`pickle.UnpicklingError`.  The pickle itself is at most
    :data:`MAX_HEADER_BYTES` long, which bounds every other allocation.
    """

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        if name == "_reconstruct":
            return _reconstruct
        return super().find_class(module, name)


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
        value = np.asarray(value).item()
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
    path = check_regular_file(source)
    name = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(m.filename).stem: m for m in archive.infolist() if m.filename.endswith(".npy")}
            missing = [k for k in REQUIRED if k not in members]
            if missing:
                raise DataError(
                    name, f"missing arrays: {', '.join(missing)} (has: {', '.join(sorted(members))})"
                )
            inflated = sum(m.file_size for m in members.values())
            check_inflation_ratio(path, inflated, path.stat().st_size)
            header_entry = members.pop("wcs_header")
            if header_entry.file_size > MAX_HEADER_BYTES:
                raise DataError(
                    name,
                    f"wcs_header is {header_entry.file_size} bytes; "
                    f"a WCS header is at most {MAX_HEADER_BYTES}",
                )
            header = read_header_dict(archive.read(header_entry), name)
            arrays = {key: _read_array(archive, entry, name) for key, entry in members.items()}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(name, f"not a readable .npz archive ({exc})") from None
    except ValueError as exc:
        raise DataError(name, f"cannot read arrays ({exc})") from None
    return [validated(with_aperture(_stamp(arrays, header, path, options)))]


def _read_array(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str) -> np.ndarray:
    """One ``.npy`` entry, after checking that its header asks for no more bytes than the entry holds."""
    key = Path(entry.filename).stem
    with archive.open(entry) as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, _fortran, dtype = read_header(fh)
        if dtype.hasobject:
            raise DataError(name, f"array {key!r} holds Python objects; only wcs_header may")
        declared = math.prod(shape) * dtype.itemsize
        if declared > entry.file_size:
            raise DataError(
                name,
                f"array {key!r} declares shape {shape} ({declared} bytes) but its entry holds "
                f"{entry.file_size} bytes: corrupt file",
            )
    with archive.open(entry) as fh:
        return np.lib.format.read_array(fh, allow_pickle=False)


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
    bad = [k for k, v in header.items() if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise DataError(
            name, f"wcs_header keyword {', '.join(bad)} is not finite: the pixel positions are unknown"
        )
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
            aperture_mask=arrays.get("aperture_mask", np.zeros(np.shape(arrays["flux"])[1:], bool)),
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
            meta={
                "product": "npz stamp",
                "position_from": position_origin("the file's ra/dec arrays", options.target),
            },
        )
    except ValueError as exc:
        raise DataError(name, str(exc).removeprefix(f"{name}: ")) from None


def _cadence(time: np.ndarray, mission: str) -> float:
    """Median cadence (s); gaps between cut windows do not affect the median."""
    dt = np.diff(time[np.isfinite(time)])
    dt = dt[dt > 0]
    return float(np.median(dt) * 86400.0) if dt.size else MISSIONS[mission].cadence_seconds
