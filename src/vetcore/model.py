"""The vetcore data model: what loaders produce, what checks consume and return.

Conventions used throughout vetcore (and required of plugins):

* **Pixels** are addressed as ``(row, col)``, 0-based, with pixel *centres* at
  integer coordinates (astropy's ``origin=0``).  Images are ``[row, col]``
  arrays, cubes ``[cadence, row, col]``.
* **Sky offsets** are ``(east, north)`` in arcsec, i.e. ``(ΔRA·cos Dec, ΔDec)``,
  measured from the target on the tangent plane.
* **Times** are in the data's own system: BTJD = BJD_TDB − 2457000 for TESS,
  BKJD = BJD_TDB − 2454833 for Kepler/K2.  :attr:`Stamp.bjd_ref` carries the
  offset, so an ephemeris in full BJD can be converted (:meth:`Ephemeris.t0_in`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from vetcore import sky
from vetcore.mission import BJD_OFFSETS, MISSIONS

if TYPE_CHECKING:  # pragma: no cover
    from astropy.wcs import WCS

    from vetcore.disposition import Disposition
    from vetcore.neighbours import Neighbours

__all__ = [
    "BJD_REFERENCE",
    "Check",
    "CheckResult",
    "Ephemeris",
    "LightCurve",
    "LoadOptions",
    "Loader",
    "Localization",
    "Param",
    "Params",
    "Renderer",
    "Scope",
    "SectorContext",
    "Stamp",
    "Status",
    "Target",
    "TargetContext",
]

#: Offset between each mission's time system and BJD_TDB (days), from :mod:`vetcore.mission`.
BJD_REFERENCE: dict[str, float] = BJD_OFFSETS

#: An epoch above this value is taken to be a full BJD, not BTJD/BKJD.
FULL_BJD_THRESHOLD = 2_400_000.0


class Status(enum.StrEnum):
    """Outcome of a check.

    ``pass``: consistent with the signal being on the target.
    ``fail``: evidence that the signal is *not* on the target.
    ``inconclusive``: the data cannot tell.  ``error``: the check crashed.
    ``skipped``: the check did not apply (e.g. missing data it needs).
    """

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    SKIPPED = "skipped"


class Scope(enum.StrEnum):
    """Where a check runs: once per sector stamp, or once per target."""

    SECTOR = "sector"
    TARGET = "target"


# --------------------------------------------------------------------------- targets


@attrs.frozen
class Target:
    """The star being vetted.  ``ra``/``dec`` in degrees (ICRS).

    ``neighbours`` is the list of catalogued stars around it
    (:class:`vetcore.neighbours.Neighbours`), or ``None`` when none was given.
    """

    id: str = attrs.field(converter=str)
    ra: float | None = attrs.field(default=None)
    dec: float | None = attrs.field(default=None)
    magnitude: float | None = None
    magnitude_band: str | None = None
    neighbours: Neighbours | None = attrs.field(default=None, repr=False)

    @ra.validator
    def _check_ra(self, attribute: attrs.Attribute[Any], value: float | None) -> None:
        if value is not None and not (0.0 <= value < 360.0 and math.isfinite(value)):
            raise ValueError(f"target RA must be in [0, 360) deg, got {value!r}")

    @dec.validator
    def _check_dec(self, attribute: attrs.Attribute[Any], value: float | None) -> None:
        if value is not None and not (-90.0 <= value <= 90.0):
            raise ValueError(f"target Dec must be in [-90, 90] deg, got {value!r}")

    @property
    def has_position(self) -> bool:
        return self.ra is not None and self.dec is not None


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{attribute.name} must be a positive number, got {value!r}")


@attrs.frozen
class Ephemeris:
    """Transit ephemeris.

    ``t0`` is a mid-transit time in ``time_system``: ``"data"`` (the stamp's own
    BTJD/BKJD) or ``"BJD"`` (full BJD_TDB; any ``t0`` above 2,400,000 is taken as
    BJD).  ``duration_hours`` is the total (first to fourth contact) duration.
    """

    period: float = attrs.field(validator=_positive)
    t0: float = attrs.field(converter=float)
    duration_hours: float = attrs.field(validator=_positive)
    depth_ppm: float | None = None
    time_system: str = attrs.field(default="data")

    @time_system.validator
    def _check_system(self, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in ("data", "BJD", "BTJD", "BKJD"):
            raise ValueError(f"time_system must be data, BJD, BTJD or BKJD, got {value!r}")

    def __attrs_post_init__(self) -> None:
        if not math.isfinite(self.t0):
            raise ValueError(f"t0 must be a finite time, got {self.t0!r}")
        if self.depth_ppm is not None and not (self.depth_ppm >= 0 and math.isfinite(self.depth_ppm)):
            raise ValueError(f"depth_ppm must be a finite number ≥ 0, got {self.depth_ppm!r}")
        if self.t0 > FULL_BJD_THRESHOLD and self.time_system != "BJD":
            object.__setattr__(self, "time_system", "BJD")
        if self.duration_hours / 24.0 >= self.period:
            raise ValueError("duration must be shorter than the period")

    @property
    def duration_days(self) -> float:
        return self.duration_hours / 24.0

    def t0_in(self, time_system: str, bjd_ref: float | None = None) -> float:
        """Epoch expressed in ``time_system`` (``"BTJD"`` or ``"BKJD"``)."""
        if self.time_system in ("data", time_system):
            return self.t0
        ref = BJD_REFERENCE[time_system] if bjd_ref is None else bjd_ref
        return self.t0 + BJD_REFERENCE[self.time_system] - ref

    def mid_transits(
        self, tmin: float, tmax: float, time_system: str = "data", bjd_ref: float | None = None
    ) -> np.ndarray:
        """Mid-transit times in ``[tmin, tmax]`` (same system as the bounds)."""
        t0 = self.t0_in(time_system, bjd_ref) if time_system != "data" else self.t0
        n0 = math.ceil((tmin - t0) / self.period)
        n1 = math.floor((tmax - t0) / self.period)
        return t0 + self.period * np.arange(n0, n1 + 1)


# --------------------------------------------------------------------------- pixel data


def _as_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    """Typed ``tuple`` converter (mypy's attrs plugin cannot use the generic builtin)."""
    return tuple(items)


@attrs.frozen(eq=False)
class LightCurve:
    """An optional photometric time series (e.g. SPOC PDCSAP), normalised or not."""

    time: np.ndarray = attrs.field(converter=np.asarray)
    flux: np.ndarray = attrs.field(converter=np.asarray)
    flux_err: np.ndarray | None = None
    quality: np.ndarray | None = None
    label: str = "lightcurve"

    def __attrs_post_init__(self) -> None:
        if self.time.shape != self.flux.shape:
            raise ValueError(f"{self.label}: time {self.time.shape} and flux {self.flux.shape} differ")


@attrs.frozen(eq=False)
class Stamp:
    """One sector (TESS) or quarter/campaign (Kepler/K2) of pixel data for one target.

    Arrays: ``time`` (n,), ``flux``/``flux_err``/``background`` (n, rows, cols) in
    e⁻/s, ``quality`` (n,) integer flags, ``aperture_mask`` (rows, cols) bool.
    ``wcs`` is a celestial astropy WCS for the stamp's 0-based pixel grid.
    ``quality_bitmask`` selects the quality bits that make a cadence bad.
    ``aperture_source`` says where the aperture came from (``"pipeline"``,
    ``"derived"`` for FFI cut-outs, or ``"user"``).  ``meta`` holds anything
    else the loader found (camera, CCD, pipeline version, notes…).
    """

    mission: str
    sector: int
    time: np.ndarray = attrs.field(converter=np.asarray)
    flux: np.ndarray = attrs.field(converter=np.asarray)
    wcs: WCS
    target: Target
    aperture_mask: np.ndarray = attrs.field(converter=lambda a: np.asarray(a, dtype=bool))
    flux_err: np.ndarray | None = None
    quality: np.ndarray | None = None
    background: np.ndarray | None = None
    pos_corr: np.ndarray | None = None
    cadence_seconds: float = 120.0
    time_system: str = "BTJD"
    bjd_ref: float = 2457000.0
    quality_bitmask: int = 0
    aperture_source: str = "pipeline"
    source: str = ""
    meta: Mapping[str, Any] = attrs.field(factory=dict)
    _good: np.ndarray | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        name = self.source or f"{self.mission} {self.sector}"
        if self.flux.ndim != 3:
            raise ValueError(f"{name}: flux must be (cadence, row, col), got shape {self.flux.shape}")
        n, ny, nx = self.flux.shape
        if self.time.shape != (n,):
            raise ValueError(f"{name}: time has shape {self.time.shape}, flux has {n} cadences")
        for label in ("flux_err", "background"):
            arr = getattr(self, label)
            if arr is not None and np.shape(arr) != self.flux.shape:
                raise ValueError(f"{name}: {label} shape {np.shape(arr)} differs from flux {self.flux.shape}")
        if self.quality is not None and np.shape(self.quality) != (n,):
            raise ValueError(f"{name}: quality shape {np.shape(self.quality)} differs from time ({n},)")
        if self.aperture_mask.shape != (ny, nx):
            raise ValueError(
                f"{name}: aperture mask shape {self.aperture_mask.shape} differs from image ({ny}, {nx})"
            )
        if self.time_system not in BJD_REFERENCE:
            raise ValueError(f"{name}: unknown time system {self.time_system!r}")

    # -- identity -----------------------------------------------------------------
    @property
    def label(self) -> str:
        """Short human label: ``S83`` (TESS sector), ``Q10`` (Kepler), ``C5`` (K2)."""
        mission = MISSIONS.get(self.mission)
        return mission.label(self.sector) if mission is not None else f"#{self.sector}"

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.flux.shape[1]), int(self.flux.shape[2]))

    @property
    def n_cadences(self) -> int:
        return int(self.flux.shape[0])

    # -- cadence selection --------------------------------------------------------
    @property
    def good(self) -> np.ndarray:
        """Usable cadences: finite time, no flagged quality bit, some finite flux (a new array each
        time; computed once per stamp, whose arrays are not changed in place)."""
        ok = self._good
        if ok is None:
            ok = np.isfinite(self.time)
            if self.quality is not None and self.quality_bitmask:
                ok &= (np.asarray(self.quality).astype(np.int64) & int(self.quality_bitmask)) == 0
            ok &= np.isfinite(self.flux).any(axis=(1, 2))
            object.__setattr__(self, "_good", ok)
        return ok.copy()

    @property
    def valid_pixels(self) -> np.ndarray:
        """Pixels that are finite in at least one good cadence (Kepler corners are not)."""
        return np.isfinite(self.flux[self.good]).any(axis=0)

    # -- geometry (delegates to vetcore.sky) ----------------------------------------
    @property
    def pixel_scale_arcsec(self) -> float:
        return sky.pixel_scale_arcsec(self.wcs)

    @property
    def target_pixel(self) -> tuple[float, float]:
        """The target's (row, col) from its RA/Dec through the WCS."""
        if not self.target.has_position:
            raise ValueError(f"{self.source or self.label}: target has no RA/Dec")
        row, col = self.sky_to_pixel(self.target.ra, self.target.dec)
        return float(row), float(col)

    def sky_to_pixel(self, ra: Any, dec: Any) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of sky positions (deg); vectorised."""
        return sky.sky_to_pixel(self.wcs, ra, dec)

    def pixel_to_sky(self, row: Any, col: Any) -> tuple[np.ndarray, np.ndarray]:
        """(ra, dec) in degrees of pixel positions; vectorised."""
        return sky.pixel_to_sky(self.wcs, row, col)

    def replace(self, **changes: Any) -> Stamp:
        return attrs.evolve(self, **changes)


# --------------------------------------------------------------------------- results


def _cov2(value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (2, 2):
        raise ValueError(f"covariance must be 2x2, got shape {arr.shape}")
    return arr


@attrs.frozen(eq=False)
class Localization:
    """Where a check places the source of the transit signal.

    ``offset_arcsec`` is (east, north) = (ΔRA·cos Dec, ΔDec) of the source from the
    target in arcsec; ``covariance_arcsec2`` its 2×2 covariance.  ``offset_sigma``
    is the Mahalanobis distance of the offset from zero (√(dᵀC⁻¹d)).  ``pixel`` and
    ``pixel_covariance`` are the (row, col) position in the stamp when known.
    ``epochs`` optionally holds independent localizations of the same sector
    (per transit or per spacecraft orbit), each with its ``label``.
    """

    method: str
    ra: float
    dec: float
    offset_arcsec: np.ndarray = attrs.field(converter=lambda v: np.asarray(v, dtype=float))
    covariance_arcsec2: np.ndarray = attrs.field(converter=_cov2)
    pixel: tuple[float, float] | None = None
    pixel_covariance: np.ndarray | None = None
    label: str = ""
    epochs: tuple[Localization, ...] = attrs.field(default=(), converter=_as_tuple)

    def __repr__(self) -> str:
        from vetcore.display import localization_repr

        return localization_repr(self)

    @property
    def distance_arcsec(self) -> float:
        return float(np.hypot(*self.offset_arcsec))

    @property
    def offset_sigma(self) -> float:
        return sky.mahalanobis(self.offset_arcsec, self.covariance_arcsec2)

    @property
    def sigma_arcsec(self) -> float:
        """Radius-like 1σ uncertainty: √(trace(C)/2)."""
        return float(np.sqrt(np.trace(self.covariance_arcsec2) / 2.0))

    def confusion_radius_arcsec(self, nsigma: float = 3.0) -> float:
        """Radius (arcsec) within which the source cannot be told apart from another star:
        ``nsigma`` times the 1σ error along the covariance's major axis (√λ_max)."""
        eig = np.linalg.eigvalsh(0.5 * (self.covariance_arcsec2 + self.covariance_arcsec2.T))
        return float(nsigma * np.sqrt(max(float(eig[-1]), 0.0)))

    @classmethod
    def from_pixel(
        cls,
        stamp: Stamp,
        row: float,
        col: float,
        covariance_pixels: Any,
        method: str,
        label: str = "",
        epochs: Sequence[Localization] = (),
    ) -> Localization:
        """Build a localization from a (row, col) position with a pixel covariance.

        The covariance is propagated to the sky through the local WCS Jacobian.
        """
        cov_pix = _cov2(covariance_pixels)
        (east, north), jac = sky.pixel_to_offset(stamp, row, col, with_jacobian=True)
        cov_sky = jac @ cov_pix @ jac.T
        ra, dec = stamp.pixel_to_sky(row, col)
        return cls(
            method=method,
            ra=float(ra),
            dec=float(dec),
            offset_arcsec=(east, north),
            covariance_arcsec2=cov_sky,
            pixel=(float(row), float(col)),
            pixel_covariance=cov_pix,
            label=label,
            epochs=tuple(epochs),
        )


MetricValue = float | int | str | bool | None


@attrs.frozen(eq=False)
class CheckResult:
    """What a check returns.

    A check's run function fills the science fields (``status``, ``flags``,
    ``metrics``, ``localization``, ``plot_data``, ``message``); the runner fills
    the bookkeeping (``check``, ``version``, ``sector``, ``params``,
    ``elapsed_s``, ``error``).  ``flags`` are UPPER_SNAKE_CASE codes that the
    check explains in :attr:`Check.flags`.  A check that answers "where is the
    source?" for the whole target sets ``disposition``
    (:class:`vetcore.disposition.Disposition`); the report's top-level
    disposition is taken from it (:func:`vetcore.disposition.report_disposition`).
    """

    status: Status = attrs.field(converter=Status)
    flags: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    metrics: Mapping[str, MetricValue] = attrs.field(factory=dict)
    localization: Localization | None = None
    plot_data: Mapping[str, Any] = attrs.field(factory=dict)
    message: str = ""
    check: str = ""
    version: str = ""
    sector: int | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict)
    elapsed_s: float = 0.0
    error: str | None = None
    disposition: Disposition | None = None

    def replace(self, **changes: Any) -> CheckResult:
        return attrs.evolve(self, **changes)

    def __repr__(self) -> str:
        from vetcore.display import result_repr

        return result_repr(self)

    def _repr_html_(self) -> str:
        from vetcore.display import result_html

        return result_html(self)


# --------------------------------------------------------------------------- checks

_PARAM_TYPES: dict[str, type] = {"float": float, "int": int, "bool": bool, "str": str}
#: List types: every item is checked like a parameter of the item type (bounds, choices).
_LIST_TYPES = {f"list[{name}]": name for name in ("float", "int", "str")}


@attrs.frozen
class Param:
    """A documented, typed check parameter.

    ``type`` is one of ``float``, ``int``, ``bool``, ``str``, or a list of one of
    them (``list[float]``, ``list[int]``, ``list[str]``, given as a TOML array and
    held as a tuple); ``choices`` limits a ``str`` parameter; ``minimum``/``maximum``
    bound a number (inclusive, or exclusive when ``exclusive_minimum``/
    ``exclusive_maximum``); for a list they apply to every item.  ``unit`` is shown
    in docs (e.g. ``"arcsec"``).  Numbers must be finite.
    """

    name: str = attrs.field()
    default: Any = attrs.field()
    doc: str = attrs.field()
    type: str = attrs.field(default="float")
    choices: tuple[Any, ...] | None = None
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False

    @type.validator
    def _check_type(self, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in _PARAM_TYPES and value not in _LIST_TYPES:
            known = [*_PARAM_TYPES, *_LIST_TYPES]
            raise ValueError(f"parameter {self.name}: type must be one of {known}")

    def coerce(self, value: Any) -> Any:
        """Validate ``value`` for this parameter, raising ``TypeError``/``ValueError``."""
        if self.type in _LIST_TYPES:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"expected a list, got {type(value).__name__} {value!r}")
            item = attrs.evolve(self, type=_LIST_TYPES[self.type])
            items = []
            for i, v in enumerate(value):
                try:
                    items.append(item.coerce(v))
                except (TypeError, ValueError) as exc:
                    raise type(exc)(f"item {i}: {exc}") from None
            return tuple(items)
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"expected a number, got {type(value).__name__} {value!r}")
            value = float(value)
        elif self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"expected an integer, got {type(value).__name__} {value!r}")
        elif not isinstance(value, _PARAM_TYPES[self.type]):
            raise TypeError(f"expected {self.type}, got {type(value).__name__} {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"must be one of {list(self.choices)}, got {value!r}")
        if self.type in ("float", "int"):
            if not math.isfinite(value):
                raise ValueError(f"must be a finite number{self._range_text()}, got {value!r}")
            low_bad = self.minimum is not None and (
                value <= self.minimum if self.exclusive_minimum else value < self.minimum
            )
            high_bad = self.maximum is not None and (
                value >= self.maximum if self.exclusive_maximum else value > self.maximum
            )
            if low_bad or high_bad:
                raise ValueError(f"must be{self._range_text()}, got {value!r}")
        return value

    def _range_text(self) -> str:
        """`` in [0, 1)``-style text for the allowed range ('' when unbounded)."""
        if self.minimum is None and self.maximum is None:
            return ""
        low = (
            "(-inf"
            if self.minimum is None
            else ("(" if self.exclusive_minimum else "[") + f"{self.minimum:g}"
        )
        high = (
            "inf)" if self.maximum is None else f"{self.maximum:g}" + (")" if self.exclusive_maximum else "]")
        )
        return f" in {low}, {high}"

    @property
    def range_text(self) -> str:
        """The allowed range as text, e.g. ``"[0, 1)"`` ('' when unbounded)."""
        return self._range_text().removeprefix(" in ")


class Params(Mapping[str, Any]):
    """Read-only parameter values with attribute access (``params.sigma_threshold``)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params are read-only")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


@attrs.frozen(eq=False)
class SectorContext:
    """Everything a sector-scope check gets: one stamp and the candidate."""

    stamp: Stamp
    ephemeris: Ephemeris
    params: Params
    lightcurve: LightCurve | None = None

    @property
    def target(self) -> Target:
        return self.stamp.target


@attrs.frozen(eq=False)
class TargetContext:
    """Everything a target-scope check gets: the per-sector results and stamps.

    ``results`` maps each stamp label (``"S83"``) to ``{check_id: CheckResult}``.
    """

    target: Target
    ephemeris: Ephemeris
    params: Params
    stamps: tuple[Stamp, ...]
    results: Mapping[str, Mapping[str, CheckResult]]


@attrs.frozen
class Check:
    """A vetting check that a plugin registers.

    ``run(ctx)`` receives a :class:`SectorContext` (``scope="sector"``) or a
    :class:`TargetContext` (``scope="target"``) and returns a
    :class:`CheckResult`.  ``plot(result, axes)`` optionally draws the result into
    ``plot_panels`` matplotlib axes, using only ``result.plot_data``.  ``flags``
    explains every flag code the check can emit, in words.  ``requires`` names
    the data it needs (``"pixels"``, ``"aperture"``, ``"lightcurve"``,
    ``"localizations"``); the runner skips it when they are missing.
    ``method`` optionally says in plain words how the check measures (which
    baseline, which error model, how it differs from common alternatives); the
    reports show it beside ``summary``.
    """

    id: str = attrs.field()
    title: str = attrs.field()
    run: Callable[[Any], CheckResult] = attrs.field(repr=False)
    scope: Scope = attrs.field(default=Scope.SECTOR, converter=Scope)
    version: str = "0"
    summary: str = ""
    params: tuple[Param, ...] = attrs.field(default=(), converter=_as_tuple)
    flags: Mapping[str, str] = attrs.field(factory=dict)
    requires: tuple[str, ...] = attrs.field(default=("pixels",), converter=_as_tuple)
    plot: Callable[[CheckResult, Sequence[Any]], None] | None = attrs.field(default=None, repr=False)
    plot_panels: int = 1
    plugin: str = ""
    method: str = ""

    @id.validator
    def _check_id(self, attribute: attrs.Attribute[Any], value: str) -> None:
        if not value or not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"check id must be alphanumeric (with - or _), got {value!r}")

    def __attrs_post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"check {self.id}: duplicate parameter names {names}")

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def default_params(self) -> Params:
        return Params({p.name: p.default for p in self.params})


# --------------------------------------------------------------------------- loaders & renderers


@attrs.frozen
class LoadOptions:
    """How sources are turned into stamps.

    ``sectors`` restricts what is loaded; ``cache_dir`` is where downloads go;
    ``offline`` forbids network access; ``quality_bitmask`` is a preset of
    :mod:`vetcore.mission` (``"none"``, ``"default"``, ``"hard"``, ``"hardest"``)
    or an integer; ``target`` overrides the target identity/position found in the
    files; ``downloader`` replaces the MAST search/download backend (used by tests).
    """

    sectors: tuple[int, ...] | None = None
    cache_dir: str | None = None
    offline: bool = False
    quality_bitmask: str | int = "default"
    target: Target | None = None
    downloader: Any = None


@attrs.frozen
class Loader:
    """Turns a source (path, identifier or Python object) into stamps.

    ``accepts(source)`` answers quickly whether this loader handles the source;
    the first accepting loader by descending ``priority`` is used.
    ``load(source, options)`` returns a list of :class:`Stamp` or raises
    :class:`vetcore.errors.DataError`.
    """

    name: str
    accepts: Callable[[Any], bool] = attrs.field(repr=False)
    load: Callable[[Any, LoadOptions], list[Stamp]] = attrs.field(repr=False)
    priority: int = 0
    summary: str = ""
    plugin: str = ""


@attrs.frozen
class Renderer:
    """Writes a finished report in one format into an output folder.

    ``render(report, out_dir)`` returns the paths it wrote, all inside ``out_dir``,
    each written atomically (see :func:`vetcore.io.atomic_write`).
    """

    name: str
    render: Callable[[Any, Any], list[Any]] = attrs.field(repr=False)
    summary: str = ""
    plugin: str = ""
