"""Outputs a colleague can use: file modes, full-precision numbers, units, inputs and methods, figures."""

from __future__ import annotations

import os
import stat

import pytest

from vetcore.demo import CASES, run_case
from vetcore.io import atomic_write, file_mode

FORMATS = ["json", "html", "png", "csv", "ecsv"]


@pytest.fixture(scope="module")
def report():
    return run_case(CASES["toi5807"])


@pytest.fixture()
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_follow_the_umask(report, tmp_path, umask):
    umask(0o022)
    assert file_mode() == 0o644
    paths = report.save(tmp_path / "shared", FORMATS)
    assert len(paths) >= 7
    for path in paths:
        assert _mode(path) == 0o644, path.name
    umask(0o077)
    assert _mode(atomic_write(tmp_path / "private.txt", "x")) == 0o600
    umask(0o002)
    assert _mode(atomic_write(tmp_path / "group.txt", "x")) == 0o664


def test_html_lists_inputs_products_and_methods_at_full_precision(report, tmp_path):
    paths = report.save(tmp_path, FORMATS)
    page = (tmp_path / "report.html").read_text()
    stamp = report.sectors[0].stamp
    assert stamp.source in page  # the input file
    for path in paths:
        assert f"<li>{path.name}</li>" in page  # every data product written with the page
    assert repr(report.ephemeris.t0) in page and "3540.26317 (BTJD)" in page
    assert repr(report.target.ra) in page and repr(report.target.dec) in page
    assert "308.5672083" in page and "43.3606889" in page
    for check in report.checks.values():
        assert check.summary.split(",")[0] in page.replace("&#x27;", "'")
    assert "local baselines" in page  # V08's method in words
    text = page.split("<h2>Methods</h2>")[1]
    assert "parameters:" in text


def test_summary_tables_have_time_system_units_and_long_form(report, tmp_path):
    from astropy.table import Table

    report.save(tmp_path, ["csv", "ecsv"])
    wide = Table.read(tmp_path / "summary.ecsv", format="ascii.ecsv")
    assert wide["t0_time_system"][0] == "BTJD"
    assert (
        str(wide["t0"].unit) == "d" and str(wide["ra"].unit) == "deg" and str(wide["duration_h"].unit) == "h"
    )
    assert wide["t0"][0] == report.ephemeris.t0 and wide["ra"][0] == report.target.ra  # not rounded
    csv_text = (tmp_path / "summary.csv").read_text()
    assert "3540.26317" in csv_text and "308.5672083" in csv_text and "43.3606889" in csv_text
    long = Table.read(tmp_path / "summary_long.ecsv", format="ascii.ecsv")
    assert len(long) == len(report.results())
    assert set(long["check"]) == set(report.checks)
    assert list(long["sector"]).count("all") == len(report.aggregates)
    assert str(long["offset_arcsec"].unit) == "arcsec"
    v08 = long[long["check"] == "V08"][0]
    assert v08["offset_arcsec"] == pytest.approx(report.result("V08", "S83").localization.distance_arcsec)
    assert (tmp_path / "summary_long.csv").exists()


def _text_boxes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for ax in fig.axes:
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            texts += [t.label1 for t in axis.get_major_ticks() if low <= t.get_loc() <= high]
        boxes += [
            (ax, t.get_text(), t.get_window_extent(renderer))
            for t in texts
            if t.get_visible() and t.get_text()
        ]
    return boxes


@pytest.mark.parametrize("case", ["toi5807", "koi608"])
def test_figures_have_no_empty_panels_and_no_overlapping_labels(case):
    from vetcore.renderers.figures import figures

    report = run_case(CASES[case])
    for name, fig in figures(report):
        for ax in fig.axes:
            drawn = (
                ax.images
                or ax.lines
                or ax.collections
                or ax.patches
                or ax.texts
                or ax.get_label() == "<colorbar>"
            )
            assert drawn, f"{case} {name}: an empty panel"
        boxes = _text_boxes(fig)
        for _, text, box in boxes:
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1, (
                f"{case} {name}: {text!r} is cut off"
            )
        for i, (ax_a, text_a, box_a) in enumerate(boxes):
            for ax_b, text_b, box_b in boxes[i + 1 :]:
                if ax_a is not ax_b:
                    assert not box_a.overlaps(box_b), f"{case} {name}: {text_a!r} overlaps {text_b!r}"


def test_pack_keeps_each_check_on_one_row():
    from vetcore.renderers.figures import pack

    assert pack([2, 3, 1], 3) == [[0, 2], [1]]
    assert pack([1, 1, 1, 3], 3) == [[0, 1, 2], [3]]
    assert pack([2, 2], 2) == [[0], [1]]


def test_v08_method_text_holds_on_toi5807(report):
    """The numbers V08's method text quotes (local vs sector-wide baseline) are what V08 measures."""
    local = report.result("V08", "S83")
    config = {"checks": {"V08": {"baseline": "global"}}}
    wide = run_case(CASES["toi5807"], checks=["V08"], config=config).result("V08", "S83")
    method = report.checks["V08"].method
    assert (
        f"{wide.metrics['centroid_shift_pixels']:.3f} px ({wide.metrics['significance_sigma']:.1f}σ)"
        in method
    )
    assert (
        f"{local.metrics['centroid_shift_pixels']:.4f} px ({local.metrics['significance_sigma']:.1f}σ)"
        in method
    )
