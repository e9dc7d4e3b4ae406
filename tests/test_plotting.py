"""vetcore.plotting: images, overlays and error ellipses drawn from JSON-ready plot data."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from vetcore import plotting
from vetcore.sky import pixel_frame
from vetcore.testing import SyntheticStar, make_stamp

pytest.importorskip("matplotlib")


@pytest.fixture
def axes():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4))
    return fig.add_subplot()


def json_frame(**kwargs) -> dict:
    """pixel_frame of a small synthetic stamp, round-tripped through JSON like report plot_data."""
    case = make_stamp(span_days=2.0, noise=False, **kwargs)
    return json.loads(json.dumps(pixel_frame(case.stamp))), case


def arrow_vector(annotation) -> np.ndarray:
    """(dx, dy) = (Δcol, Δrow) from an arrow's tail to its tip."""
    return np.subtract(annotation.xy, annotation.xyann)


def test_full_panel_from_json_plot_data(axes, tmp_path):
    frame, case = json_frame(
        stars=[SyntheticStar(), SyntheticStar(east_arcsec=30.0, flux=5e3)], transit_star=1, depth=0.05
    )
    image = np.nanmean(case.stamp.flux, axis=0).tolist()
    image[0][0] = None  # a missing pixel, as JSON null
    im = plotting.show_image(axes, np.array(image, dtype=float), frame)
    plotting.draw_error_ellipse(axes, case.truth.source_pixel, [[0.04, 0.01], [0.01, 0.09]], label="source")
    plotting.mark_pixel(axes, case.truth.source_pixel, label="fit")
    plotting.style_axes(axes, "mean image S1", legend=True)
    path = tmp_path / "panel.png"
    axes.figure.savefig(path, dpi=60)
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ny, nx = case.stamp.shape
    assert im.get_extent() == [-0.5, nx - 0.5, -0.5, ny - 0.5]
    assert im.origin == "lower" and im.get_cmap().name.startswith("viridis")
    assert np.ma.is_masked(im.get_array()[0, 0])
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("column (px)", "row (px)")
    assert axes.get_title() == "mean image S1"
    assert axes.get_legend() is not None
    assert len(axes.figure.axes) == 2  # the image and its colour bar


def test_symmetric_image_is_centred_on_zero_with_sign_contours(axes):
    rows, cols = np.mgrid[0:9, 0:11]
    diff = 5.0 * np.exp(-((rows - 4) ** 2 + (cols - 7) ** 2) / 2.0) - 2.0 * np.exp(-((cols - 2) ** 2) / 2.0)
    im = plotting.show_image(axes, diff, symmetric=True, colorbar=False)
    assert im.get_clim() == pytest.approx((-5.0, 5.0), rel=1e-3)
    assert im.get_cmap().name.startswith(plotting.DIVERGING_CMAP)
    contour_sets = [c for c in axes.get_children() if type(c).__name__ == "QuadContourSet"]
    assert len(contour_sets) == 2
    positive, negative = sorted(contour_sets, key=lambda c: c.levels[0], reverse=True)
    assert np.all(positive.levels > 0) and np.all(negative.levels < 0)
    assert positive.levels == pytest.approx([1.25, 2.5, 3.75], rel=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "no contour levels" warning for a one-signed image
        plotting.show_image(axes, np.abs(diff), symmetric=True, colorbar=False)
    assert len([c for c in axes.get_children() if type(c).__name__ == "QuadContourSet"]) == 3
    im2 = plotting.show_image(axes, diff, symmetric=True, vmax=10.0, colorbar=False, sign_contours=False)
    assert im2.get_clim() == (-10.0, 10.0)
    with pytest.raises(ValueError, match="2-D"):
        plotting.show_image(axes, np.zeros((2, 3, 4)))


def test_aperture_outline_edges():
    square = np.zeros((4, 4), bool)
    square[1:3, 1:3] = True
    edges = plotting.aperture_edges(square)
    assert edges.shape == (8, 2, 2)
    lengths = np.hypot(*(edges[:, 1] - edges[:, 0]).T)
    assert lengths == pytest.approx(np.ones(8))
    xs, ys = edges[..., 0], edges[..., 1]
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (0.5, 2.5, 0.5, 2.5)
    ring = np.ones((3, 3), bool)
    ring[1, 1] = False
    assert plotting.aperture_edges(ring).shape == (16, 2, 2)  # 12 outer + 4 around the hole
    assert plotting.aperture_edges(np.zeros((3, 3), bool)).shape == (0, 2, 2)


def test_draw_aperture_and_target_marker(axes):
    frame, case = json_frame()
    lines = plotting.draw_aperture(axes, frame["aperture"])
    assert len(lines.get_segments()) == plotting.aperture_edges(case.stamp.aperture_mask).shape[0]
    marker = plotting.mark_target(axes, frame)
    row, col = case.truth.target_pixel
    assert (marker.get_xdata()[0], marker.get_ydata()[0]) == pytest.approx((col, row))


def test_error_ellipse_geometry_swaps_row_and_column(axes):
    # row variance 4, col variance 1: long axis along rows = the y axis of the image
    (one,) = plotting.draw_error_ellipse(axes, (3.0, 5.0), [[4.0, 0.0], [0.0, 1.0]], n_sigma=1.0)
    assert one.center == (5.0, 3.0)
    assert (one.width, one.height) == pytest.approx((4.0, 2.0))
    assert abs(one.angle) == pytest.approx(90.0)
    # correlated: major axis along (Δrow, Δcol) = (1, 1), eigenvalues 3 and 1
    patches = plotting.draw_error_ellipse(axes, (0.0, 0.0), [[2.0, 1.0], [1.0, 2.0]], color="k")
    assert len(patches) == 3
    assert [p.width for p in patches] == pytest.approx([2 * n * math.sqrt(3.0) for n in (1, 2, 3)])
    assert [p.height for p in patches] == pytest.approx([2 * n for n in (1, 2, 3)])
    assert patches[0].angle == pytest.approx(45.0)
    assert len({p.get_linestyle() for p in patches}) == 3
    assert not any(p.get_fill() for p in patches)
    # anti-correlated row/col: major axis along (Δrow, Δcol) = (1, −1) → x = −1, y = 1 → 135° ≡ −45°
    (anti,) = plotting.draw_error_ellipse(axes, (0.0, 0.0), [[2.0, -1.0], [-1.0, 2.0]], n_sigma=1.0)
    assert anti.angle == pytest.approx(-45.0)


def test_covariance_ellipse_contains_the_right_probability():
    rng = np.random.default_rng(1)
    cov = np.array([[3.0, 1.2], [1.2, 1.0]])
    pts = rng.multivariate_normal([0, 0], cov, size=40000)
    width, height, angle = plotting.covariance_ellipse(cov, 2.0)
    a, b, t = width / 2, height / 2, math.radians(angle)
    u = pts[:, 0] * math.cos(t) + pts[:, 1] * math.sin(t)
    v = -pts[:, 0] * math.sin(t) + pts[:, 1] * math.cos(t)
    inside = np.mean((u / a) ** 2 + (v / b) ** 2 <= 1)
    assert inside == pytest.approx(1 - math.exp(-2.0), abs=0.01)  # 86.5 % for n = 2
    with pytest.raises(ValueError, match="2x2"):
        plotting.covariance_ellipse(np.eye(3))


def test_sky_ellipse_and_sky_axes(axes, tmp_path):
    plotting.sky_axes(axes)
    assert axes.xaxis_inverted()
    plotting.sky_axes(axes, mark_origin=False)  # idempotent: stays inverted
    assert axes.xaxis_inverted()
    (patch,) = plotting.draw_sky_ellipse(axes, (12.0, -4.0), [[9.0, 0.0], [0.0, 1.0]], n_sigma=1.0)
    assert patch.center == (12.0, -4.0)  # x = east, y = north: no swap
    assert (patch.width, patch.height, patch.angle) == pytest.approx((6.0, 2.0, 0.0))
    axes.set_xlim(30, -30)
    axes.set_ylim(-30, 30)
    # drawn east-left: the eastern (positive) offset appears left of the target in display space
    east_disp = axes.transData.transform([(12.0, -4.0)])[0]
    origin_disp = axes.transData.transform([(0.0, 0.0)])[0]
    assert east_disp[0] < origin_disp[0]
    assert "east" in axes.get_xlabel() and "north" in axes.get_ylabel()
    axes.figure.savefig(tmp_path / "sky.png", dpi=50)


@pytest.mark.parametrize("roll", [0.0, 90.0, 213.0])
def test_compass_arrows_follow_the_frame(axes, roll):
    frame, case = json_frame(roll_deg=roll)
    arrows = plotting.draw_compass(axes, frame, length=3.0)
    theta = math.radians(roll)
    north, east = arrow_vector(arrows["N"]), arrow_vector(arrows["E"])
    # (dx, dy) = (Δcol, Δrow); north = (cos roll, −sin roll) in (Δrow, Δcol), east = (−sin, −cos)
    assert north == pytest.approx(3.0 * np.array([-math.sin(theta), math.cos(theta)]), abs=1e-6)
    assert east == pytest.approx(3.0 * np.array([-math.cos(theta), -math.sin(theta)]), abs=1e-6)
    ny, nx = case.stamp.shape
    for ann in arrows.values():
        for x, y in (ann.xy, ann.xyann):
            assert -0.5 <= x <= nx - 0.5 and -0.5 <= y <= ny - 0.5
    labels = {t.get_text() for t in axes.texts}
    assert {"N", "E"} <= labels


def test_scale_bar_length_in_pixels(axes):
    frame, _ = json_frame()
    line, text = plotting.draw_scale_bar(axes, frame)
    assert np.ptp(line.get_xdata()) == pytest.approx(50.0 / 21.0)
    assert text.get_text() == "50″"
    line, text = plotting.draw_scale_bar(axes, frame, arcsec=21.0)
    assert np.ptp(line.get_xdata()) == pytest.approx(1.0)
    assert plotting.nice_scale_arcsec(3.98) == 10.0
    assert plotting.nice_scale_arcsec(0.2) == 0.5
    with pytest.raises(ValueError, match="positive"):
        plotting.nice_scale_arcsec(0.0)


def test_importing_plotting_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, vetcore.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
