"""The notebook layer: HTML reprs, short reprs, tables with units, plotting into the user's axes."""

from __future__ import annotations

import base64
import math
from html.parser import HTMLParser

import numpy as np
import pytest

import vetcore
from vetcore.demo import CASES, run_case


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag == "tr":
            self.rows += 1
        if tag not in ("img", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> (open: {self.stack[-3:]})"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(markup: str) -> _Page:
    page = _Page()
    page.feed(markup)
    page.close()
    assert page.stack == [], f"unclosed tags {page.stack}"
    return page


@pytest.fixture(scope="module")
def report():
    return run_case(CASES["toi5807"])


def test_report_html_repr_parses_and_holds_the_verdict(report):
    page = _parse(report._repr_html_())
    text = " ".join(page.text)
    verdict = report.aggregates["V25"].metrics["verdict"]
    assert f"V25: {verdict}" in text
    for _, result in report.results():
        assert result.check in text
    assert page.rows >= len(report.results()) + 1  # header + one row per result
    assert len(page.images) == 2  # the S83 figure and the summary figure
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(report._repr_html_()) < 250_000  # compact figures


def test_result_reprs_do_not_dump_arrays(report):
    result = report.result("V08", "S83")
    text = repr(result)
    assert text.startswith(f"<CheckResult V08 sector 83: {result.status.value}")
    assert "array(" not in text and "[[" not in text and len(text) < 600
    loc = repr(result.localization)
    assert loc.startswith("<Localization V08") and "array(" not in loc and "[[" not in loc
    assert f"{result.localization.sigma_arcsec:.2f}″" in loc
    page = _parse(result._repr_html_())
    text = " ".join(page.text)
    assert result.status.value in text and "centroid_shift_pixels" in text and "pix" in text
    assert page.rows <= 26  # one screen: at most MAX_HTML_METRICS metrics and a "more" line


def test_to_table_has_one_row_per_check_and_sector_with_units(report):
    import astropy.units as u

    table = report.to_table()
    assert len(table) == len(report.results())
    assert list(zip(table["check"], table["sector"], strict=True)) == [
        (r.check, label or "all") for label, r in report.results()
    ]
    numeric = [name for name in table.colnames if table[name].dtype.kind in "fi"]
    assert len(numeric) > 20
    for name in numeric:
        assert table[name].unit is not None, name
    assert table["offset_arcsec"].unit == u.arcsec and table["source_ra"].unit == u.deg
    assert table["V08_centroid_shift_pixels"].unit == u.pix
    assert table["V09_aperture_sum_ppm"].unit.to(u.dimensionless_unscaled) == pytest.approx(1e-6)
    v08 = report.result("V08", "S83")
    row = table[(table["check"] == "V08") & (table["sector"] == "S83")][0]
    assert row["offset_arcsec"] == pytest.approx(v08.localization.distance_arcsec, rel=1e-12)
    assert row["V08_centroid_shift_pixels"] == pytest.approx(v08.metrics["centroid_shift_pixels"], rel=1e-12)
    x01 = table[table["check"] == "X01"][0]
    assert np.ma.is_masked(x01["offset_arcsec"])  # X01 does not localize: masked, not 0
    assert "V25.cov_ee" in table.meta["metrics_without_unit"]


def test_to_pandas_keeps_units(report):
    pytest.importorskip("pandas", reason="pandas is optional")
    frame = report.to_pandas()
    assert len(frame) == len(report.results())
    assert frame.attrs["units"]["offset_arcsec"] == "arcsec"
    assert math.isnan(frame.loc[frame["check"] == "X01", "offset_arcsec"].iloc[0])


def test_plot_draws_into_the_users_axes(report):
    from matplotlib.figure import Figure

    fig = Figure()
    axes = fig.subplots(1, 3)
    drawn = report.plot("V09", sector="S83", ax=axes)
    assert list(drawn) == list(axes)
    assert all(ax.images for ax in axes)
    fig = Figure()
    ax = fig.subplots()
    report.plot("V09", sector=83, ax=ax, panel=1)
    assert ax.images and "difference" in ax.get_title()
    assert len(fig.axes) == 2  # the panel and its colour bar, nothing else
    with pytest.raises(ValueError, match="V09 draws 3 panels"):
        report.plot("V09", ax=Figure().subplots())
    ax = Figure().subplots()
    report.plot("V25", ax=ax)  # target-level result: no sector needed
    assert ax.patches
    with pytest.raises(KeyError, match="no sector 12"):
        report.plot("V08", sector=12, ax=ax)


def test_dir_lists_the_lazy_public_names():
    names = dir(vetcore)
    for name in ("vet", "load", "Report", "Stamp", "CheckResult", "__version__"):
        assert name in names


def test_pixel_axes_in_ccd_column_and_row_as_lightkurve():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    report = run_case(CASES["koi608"])
    stamp = report.sectors[0].stamp
    row0, col0 = stamp.meta["ccd_origin"]
    lk = pytest.importorskip("lightkurve", reason="compared with lightkurve's tpf.column/tpf.row")
    tpf = lk.read(stamp.source)
    assert (row0, col0) == (tpf.row, tpf.column) == (550, 683)
    fig = Figure()
    ax = fig.subplots()
    report.plot("V09", ax=ax, panel=1, pixel_axes="ccd")
    FigureCanvasAgg(fig).draw()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("CCD column", "CCD row")
    ticks = {
        round(t): label.get_text() for t, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
    }
    assert ticks[0] == "683" and ticks[2] == "685"  # stamp column 0 is CCD column 683
    ax = Figure().subplots()
    report.plot("V09", ax=ax, panel=1)  # the default stays in stamp pixels
    assert ax.get_xlabel() == "column (px)"
    with pytest.raises(ValueError, match="pixel axes must be one of stamp, ccd"):
        report.plot("V09", ax=ax, panel=1, pixel_axes="sky")
