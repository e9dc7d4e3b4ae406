"""Matplotlib helpers shared by check figures and report renderers.

Every helper draws into an ``Axes`` it is given (no pyplot state) and needs only
JSON-ready inputs: images as nested lists or arrays, and the ``frame`` dict of
:func:`vetcore.sky.pixel_frame` (``shape``, ``target_pixel``,
``pixel_scale_arcsec``, unit ``north``/``east`` vectors in (Δrow, Δcol),
``aperture``), so a check's ``plot(result, axes)`` can redraw its figure from
``result.plot_data`` alone.

Display conventions
-------------------
* Pixel images: column on the x axis, row on the y axis, ``origin="lower"``,
  pixel centres at integer coordinates (the (row, col) convention of
  :mod:`vetcore.model`).  Axes are labelled "column (px)" and "row (px)" in
  stamp pixels, or "CCD column"/"CCD row" inside ``with pixel_axes("ccd"):``
  (as lightkurve and the SPOC DV reports label them) when the frame knows the
  stamp's CCD origin (``frame["ccd_origin"]``); the drawing is the same, only
  the tick labels change.
* Sky-plane plots: offsets (east, north) in arcsec from the target with east to
  the LEFT and north up, as the sky is seen (:func:`sky_axes`).
* Colour maps: images use ``viridis`` (perceptually uniform, monotonic in
  lightness, so readable in greyscale and by colour-blind readers).
  Signed images (difference images, residuals) use the ColorBrewer diverging
  map ``PuOr_r`` centred on zero (colour-blind safe); because any diverging map
  is symmetric in lightness, the sign is also drawn with contours — solid for
  positive, dashed for negative — so it survives greyscale printing.
* Overlays (aperture, markers, compass, scale bar) are drawn light with a dark
  halo, visible on both ends of any colour map.

matplotlib is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection
    from matplotlib.image import AxesImage
    from matplotlib.patches import Ellipse
    from matplotlib.text import Annotation

__all__ = [
    "DIVERGING_CMAP",
    "PIXEL_AXES",
    "SEQUENTIAL_CMAP",
    "aperture_edges",
    "covariance_ellipse",
    "draw_aperture",
    "draw_compass",
    "draw_error_ellipse",
    "draw_neighbours",
    "draw_scale_bar",
    "draw_sky_ellipse",
    "image_frame",
    "label_pixel_axes",
    "mark_pixel",
    "mark_target",
    "nice_scale_arcsec",
    "pixel_axes",
    "show_image",
    "sky_axes",
    "style_axes",
]

SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "PuOr_r"
#: Colour of masked (NaN) pixels: mid grey, distinct from both ends of ``viridis``.
BAD_COLOR = "0.6"
_SIGMA_STYLES = ("-", "--", ":", "-.")
#: How pixel images label their axes: ``"stamp"`` (0-based stamp pixels) or ``"ccd"``.
PIXEL_AXES = ("stamp", "ccd")
_pixel_axes: list[str] = ["stamp"]


@contextmanager
def pixel_axes(mode: str) -> Iterator[None]:
    """Label pixel-image axes in ``"stamp"`` pixels (default) or ``"ccd"`` column/row within the block."""
    if mode not in PIXEL_AXES:
        raise ValueError(f"pixel axes must be one of {', '.join(PIXEL_AXES)}, got {mode!r}")
    _pixel_axes.append(mode)
    try:
        yield
    finally:
        _pixel_axes.pop()


def label_pixel_axes(ax: Axes, frame: Frame | None) -> None:
    """Axis labels of a pixel image: stamp pixels, or CCD column/row (see :func:`pixel_axes`)."""
    origin = frame.get("ccd_origin") if frame is not None else None
    if _pixel_axes[-1] != "ccd" or origin is None:
        ax.set_xlabel("column (px)")
        ax.set_ylabel("row (px)")
        return
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    row0, col0 = (int(v) for v in origin)
    for axis, offset in ((ax.xaxis, col0), (ax.yaxis, row0)):
        axis.set_major_locator(MaxNLocator(integer=True))
        axis.set_major_formatter(FuncFormatter(lambda value, _, o=offset: f"{value + o:.0f}"))
    ax.set_xlabel("CCD column")
    ax.set_ylabel("CCD row")


Frame = Mapping[str, Any]

#: The frame of every pixel image drawn by :func:`show_image`, so overlays can find it later.
_IMAGE_FRAMES: weakref.WeakKeyDictionary[Any, Frame] = weakref.WeakKeyDictionary()


def _halo(width: float = 2.5) -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="black")]


# --------------------------------------------------------------------------- images


def show_image(
    ax: Axes,
    image: Any,
    frame: Frame | None = None,
    *,
    cmap: str | None = None,
    symmetric: bool = False,
    label: str = "flux (e⁻/s)",
    colorbar: bool = True,
    vmin: float | None = None,
    vmax: float | None = None,
    overlays: bool = True,
    sign_contours: bool = True,
) -> AxesImage:
    """Draw a (row, col) image with column on x, row on y, origin lower, pixel centres at integers.

    ``symmetric=True`` is for signed images: a diverging map centred on 0
    (limits ±max|value| unless given) with solid/dashed contours at ±25, 50,
    75 % of the limit when ``sign_contours``.  NaN pixels are grey.  With a
    ``frame`` and ``overlays``, the aperture outline, the target, a compass and
    a scale bar are drawn too.  ``label`` names the colour bar.
    """
    import matplotlib as mpl

    data = np.ma.masked_invalid(np.asarray(image, dtype=float))
    if data.ndim != 2:
        raise ValueError(f"show_image needs a 2-D (row, col) image, got shape {data.shape}")
    ny, nx = data.shape
    colormap = mpl.colormaps[cmap or (DIVERGING_CMAP if symmetric else SEQUENTIAL_CMAP)].with_extremes(
        bad=BAD_COLOR
    )
    if symmetric:
        given = [abs(v) for v in (vmin, vmax) if v is not None]
        limit = max(given) if given else float(np.abs(data).max()) if data.count() else 0.0
        vmin, vmax = -(limit or 1.0), limit or 1.0
    im = ax.imshow(
        data,
        origin="lower",
        cmap=colormap,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        extent=(-0.5, nx - 0.5, -0.5, ny - 0.5),
    )
    if symmetric and sign_contours and data.count() and min(nx, ny) >= 2:
        _sign_contours(ax, data, np.array([0.25, 0.5, 0.75]) * vmax)
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(-0.5, ny - 0.5)
    ax.set_aspect("equal")
    label_pixel_axes(ax, frame)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=label)
    if frame is not None:
        _IMAGE_FRAMES[ax] = frame
    if frame is not None and overlays:
        if frame.get("aperture") is not None:
            draw_aperture(ax, frame["aperture"])
        mark_target(ax, frame)
        draw_compass(ax, frame)
        draw_scale_bar(ax, frame)
    return im


def _sign_contours(ax: Axes, data: np.ma.MaskedArray, levels: np.ndarray) -> None:
    """Solid contours at the positive ``levels``, dashed at their negatives (sign readable in greyscale)."""
    cols, rows = np.arange(data.shape[1]), np.arange(data.shape[0])
    for sign, style in ((1.0, "solid"), (-1.0, "dashed")):
        inside = [lv for lv in sorted(sign * levels) if data.min() < lv < data.max()]
        if inside:
            ax.contour(cols, rows, data, levels=inside, colors="black", linewidths=0.7, linestyles=style)


def aperture_edges(mask: Any) -> np.ndarray:
    """Segments ``(k, 2, 2)`` of ((x0, y0), (x1, y1)) along the outline of the True pixels of ``mask``."""
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"aperture mask must be 2-D (row, col), got shape {m.shape}")
    p = np.pad(m, 1)
    # horizontal edges: between rows r-1 and r at y = r - 0.5, for r in 0..ny
    hr, hc = np.nonzero(p[1:, 1:-1] != p[:-1, 1:-1])
    # vertical edges: between cols c-1 and c at x = c - 0.5, for c in 0..nx
    vr, vc = np.nonzero(p[1:-1, 1:] != p[1:-1, :-1])
    horizontal = np.stack([np.column_stack([hc - 0.5, hr - 0.5]), np.column_stack([hc + 0.5, hr - 0.5])], 1)
    vertical = np.stack([np.column_stack([vc - 0.5, vr - 0.5]), np.column_stack([vc - 0.5, vr + 0.5])], 1)
    return np.concatenate([horizontal, vertical]).astype(float)


def draw_aperture(
    ax: Axes, mask: Any, *, color: str = "white", linewidth: float = 1.5, label: str | None = None
) -> LineCollection:
    """Outline (not fill) the pixels where ``mask`` is true, white with a dark halo.

    Unlabelled by default: a white line makes an invisible legend swatch.
    """
    from matplotlib.collections import LineCollection

    lines = LineCollection(
        list(aperture_edges(mask)),
        colors=color,
        linewidths=linewidth,
        label=label,
        path_effects=_halo(linewidth + 1.5),
        capstyle="projecting",
    )
    ax.add_collection(lines)
    return lines


def mark_target(ax: Axes, frame: Frame, *, label: str | None = "target", size: float = 14.0) -> Any:
    """A white star with a black edge at the target's WCS position ``frame["target_pixel"]``."""
    row, col = frame["target_pixel"]
    (marker,) = ax.plot(
        [col], [row], marker="*", ms=size, mfc="white", mec="black", mew=1.0, ls="none", label=label, zorder=5
    )
    return marker


def image_frame(ax: Axes) -> Frame | None:
    """The frame of the pixel image :func:`show_image` drew on ``ax`` (``None`` if none)."""
    return _IMAGE_FRAMES.get(ax)


def offset_to_frame_pixel(frame: Frame, east: float, north: float) -> tuple[float, float]:
    """(row, col) of a sky offset (east, north) arcsec from the target, through the frame's
    north/east unit vectors and pixel scale (local, linear)."""
    scale = float(frame["pixel_scale_arcsec"])
    row0, col0 = frame["target_pixel"]
    e, n = np.asarray(frame["east"], float), np.asarray(frame["north"], float)
    row, col = np.array([row0, col0]) + (east / scale) * e + (north / scale) * n
    return float(row), float(col)


def draw_neighbours(
    ax: Axes, frame: Frame, hosts: Sequence[Mapping[str, Any]], *, likely_host: str | None = None
) -> list[Any]:
    """Listed neighbour stars on a pixel image: an open star (could host the signal) or a cross
    (too faint to), labelled with the id and the host probability; the likely host in red.

    ``hosts`` are rows with ``id``, ``east``, ``north`` (arcsec from the target),
    ``feasible``, ``probability`` and ``is_target`` (the target is already marked).
    """
    ny, nx = frame["shape"]
    artists = []
    for host in hosts:
        if host.get("is_target"):
            continue
        row, col = offset_to_frame_pixel(frame, float(host["east"]), float(host["north"]))
        if not (-0.5 <= row <= ny - 0.5 and -0.5 <= col <= nx - 0.5):
            continue
        likely = host["id"] == likely_host
        color = "tab:red" if likely else "white"
        (marker,) = ax.plot(
            [col], [row], marker="*" if host.get("feasible", True) else "x", ms=11 if likely else 8,
            mfc="none", mec=color, color=color, mew=1.3, ls="none", zorder=6, path_effects=_halo(2.0),
        )  # fmt: skip
        text = ax.annotate(
            f"{host['id']} {float(host.get('probability') or 0.0):.0%}", (col, row), xytext=(4, 4),
            textcoords="offset points", fontsize=7, color=color, path_effects=_halo(2.0), clip_on=True,
        )  # fmt: skip
        artists += [marker, text]
    return artists


def mark_pixel(
    ax: Axes,
    pixel_rc: Sequence[float],
    *,
    label: str | None = None,
    marker: str = "X",
    color: str = "tab:red",
    size: float = 10.0,
) -> Any:
    """A marker at a (row, col) position (e.g. a fitted source), with a white edge."""
    row, col = pixel_rc
    (artist,) = ax.plot(
        [col],
        [row],
        marker=marker,
        ms=size,
        mfc=color,
        mec="white",
        mew=1.0,
        ls="none",
        label=label,
        zorder=5,
    )
    return artist


def draw_compass(
    ax: Axes,
    frame: Frame,
    *,
    length: float | None = None,
    origin_rc: Sequence[float] | None = None,
    color: str = "white",
) -> dict[str, Annotation]:
    """Arrows pointing north and east on the pixel image, labelled "N" and "E".

    Directions come from ``frame["north"]`` / ``frame["east"]`` (unit (Δrow,
    Δcol) vectors).  The arrows start at ``origin_rc`` (default: the upper-left
    corner, inset so arrows and labels stay inside) and are ``length`` pixels long
    (default 22 % of the smaller image side).  Returns ``{"N": ..., "E": ...}``.
    """
    ny, nx = (int(v) for v in frame["shape"])
    vectors = {k: np.asarray(frame[key], dtype=float) for k, key in (("N", "north"), ("E", "east"))}
    size = length if length is not None else 0.22 * min(nx, ny)
    if origin_rc is None:
        # upper-left corner, shifted so both arrows and their labels stay inside the image
        reach = 1.3 * size * np.array([[0.0, 0.0], vectors["N"], vectors["E"]])
        margin = 0.06 * min(nx, ny) + 0.2
        r0 = ny - 0.5 - margin - reach[:, 0].max()
        c0 = -0.5 + margin - reach[:, 1].min()
    else:
        r0, c0 = (float(v) for v in origin_rc)
    arrows: dict[str, Annotation] = {}
    for name, (vr, vc) in vectors.items():
        tip = (c0 + size * vc, r0 + size * vr)
        arrows[name] = ax.annotate(
            "",
            xy=tip,
            xytext=(c0, r0),
            zorder=6,
            arrowprops={
                "arrowstyle": "-|>",
                "color": color,
                "lw": 1.5,
                "shrinkA": 0,
                "shrinkB": 0,
                "path_effects": _halo(3.0),
            },
        )
        ax.text(
            c0 + 1.3 * size * vc,
            r0 + 1.3 * size * vr,
            name,
            color=color,
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            path_effects=_halo(2.5),
            zorder=6,
        )
    return arrows


def nice_scale_arcsec(pixel_scale_arcsec: float, pixels: float = 2.5) -> float:
    """A round length (1, 2 or 5 × 10ᵏ arcsec) closest in ratio to ``pixels`` pixels."""
    if not (pixel_scale_arcsec > 0 and math.isfinite(pixel_scale_arcsec)):
        raise ValueError(f"pixel scale must be positive, got {pixel_scale_arcsec!r}")
    want = pixels * pixel_scale_arcsec
    k = math.floor(math.log10(want))
    candidates = [m * 10.0**e for e in (k - 1, k, k + 1) for m in (1.0, 2.0, 5.0)]
    return min(candidates, key=lambda v: abs(math.log(v / want)))


def draw_scale_bar(
    ax: Axes, frame: Frame, arcsec: float | None = None, *, color: str = "white"
) -> tuple[Any, Any]:
    """A horizontal bar of ``arcsec`` (default :func:`nice_scale_arcsec`) in the lower-right corner.

    Its length in pixels is ``arcsec / frame["pixel_scale_arcsec"]``, labelled
    in arcsec.  Returns the (line, text) artists.
    """
    ny, nx = (int(v) for v in frame["shape"])
    scale = float(frame["pixel_scale_arcsec"])
    value = nice_scale_arcsec(scale) if arcsec is None else float(arcsec)
    length = value / scale
    margin = 0.06 * min(nx, ny) + 0.2
    x1 = nx - 0.5 - margin
    y = -0.5 + margin
    (line,) = ax.plot(
        [x1 - length, x1],
        [y, y],
        color=color,
        lw=2.5,
        solid_capstyle="butt",
        path_effects=_halo(4.5),
        zorder=6,
    )
    text = ax.text(
        x1 - length / 2.0,
        y + 0.25,
        f"{value:g}″",
        color=color,
        ha="center",
        va="bottom",
        fontsize=8,
        path_effects=_halo(2.5),
        zorder=6,
    )
    return line, text


# --------------------------------------------------------------------------- ellipses


def covariance_ellipse(cov_xy: Any, n_sigma: float = 1.0) -> tuple[float, float, float]:
    """(width, height, angle°) of the ``n_sigma`` contour of a 2×2 (x, y) covariance.

    ``width`` is the full major axis 2·n·√λ_max, ``angle`` its direction
    counter-clockwise from +x (degrees, in (−90, 90]), as
    :class:`matplotlib.patches.Ellipse` expects.  The contour encloses
    1 − exp(−n²/2) of a 2-D Gaussian (39 %, 86 %, 99 % for n = 1, 2, 3).
    """
    c = np.asarray(cov_xy, dtype=float)
    if c.shape != (2, 2) or not np.all(np.isfinite(c)):
        raise ValueError(f"covariance must be a finite 2x2 matrix, got {c.tolist()}")
    vals, vecs = np.linalg.eigh(0.5 * (c + c.T))
    vals = np.clip(vals, 0.0, None)
    major = vecs[:, 1]
    angle = math.degrees(math.atan2(major[1], major[0]))
    angle = angle - 180.0 if angle > 90.0 else angle + 180.0 if angle <= -90.0 else angle
    return 2.0 * n_sigma * math.sqrt(vals[1]), 2.0 * n_sigma * math.sqrt(vals[0]), angle


def _ellipses(
    ax: Axes,
    center_xy: tuple[float, float],
    cov_xy: np.ndarray,
    n_sigma: float | Sequence[float],
    style: dict[str, Any],
) -> list[Ellipse]:
    from matplotlib.patches import Ellipse

    levels = [n_sigma] if isinstance(n_sigma, int | float) else list(n_sigma)
    label = style.pop("label", None)
    style.setdefault("color", "tab:red")
    style.setdefault("linewidth", 1.5)
    patches = []
    for i, n in enumerate(levels):
        width, height, angle = covariance_ellipse(cov_xy, float(n))
        kwargs = {"linestyle": _SIGMA_STYLES[min(i, len(_SIGMA_STYLES) - 1)], **style}
        patch = Ellipse(
            center_xy, width, height, angle=angle, fill=False, label=label if i == 0 else None, **kwargs
        )
        ax.add_patch(patch)
        patches.append(patch)
    return patches


def draw_error_ellipse(
    ax: Axes,
    center_rc: Sequence[float],
    cov_rc: Any,
    n_sigma: float | Sequence[float] = (1.0, 2.0, 3.0),
    **style: Any,
) -> list[Ellipse]:
    """Ellipses of a (row, col) position with a 2×2 (row, col) covariance on a pixel image.

    The image has x = column, y = row, so the covariance is reordered to
    (col, row) before drawing.  One unfilled ellipse per ``n_sigma`` level
    (solid, dashed, dotted…); ``style`` goes to
    :class:`~matplotlib.patches.Ellipse` (``color``, ``linewidth``, ``label``…).
    """
    c = np.asarray(cov_rc, dtype=float)
    cov_xy = c[::-1, ::-1]
    row, col = center_rc
    return _ellipses(ax, (float(col), float(row)), cov_xy, n_sigma, dict(style))


def draw_sky_ellipse(
    ax: Axes,
    center_en: Sequence[float],
    cov_en: Any,
    n_sigma: float | Sequence[float] = (1.0, 2.0, 3.0),
    **style: Any,
) -> list[Ellipse]:
    """Ellipses of an (east, north) arcsec offset with its 2×2 covariance, on :func:`sky_axes`.

    x = east, y = north in data coordinates; with the x axis inverted by
    :func:`sky_axes` the ellipse appears as on the sky (east left).
    """
    east, north = center_en
    return _ellipses(ax, (float(east), float(north)), np.asarray(cov_en, dtype=float), n_sigma, dict(style))


def sky_axes(ax: Axes, *, mark_origin: bool = True) -> Axes:
    """Make ``ax`` a sky-offset plane: east to the left, north up, equal scales, arcsec labels.

    With ``mark_origin`` the target (0, 0) is marked with a white star.
    """
    if not ax.xaxis_inverted():
        ax.invert_xaxis()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("east offset ΔRA·cos Dec (arcsec)")
    ax.set_ylabel("north offset ΔDec (arcsec)")
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0.0, color="0.8", lw=0.8, zorder=0)
    if mark_origin:
        ax.plot(
            [0.0], [0.0], marker="*", ms=14, mfc="white", mec="black", ls="none", label="target", zorder=5
        )
    return ax


def style_axes(ax: Axes, title: str | None = None, *, legend: bool = False) -> Axes:
    """Common finishing: a compact title, small tick labels, an optional legend of labelled artists."""
    if title:
        ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    ax.xaxis.label.set_fontsize(9)
    ax.yaxis.label.set_fontsize(9)
    if legend:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best", framealpha=0.8)
    return ax
