"""All report formats on a synthetic multi-sector run: schema, HTML parsing and escaping, PNG sizes."""

from __future__ import annotations

import json
import struct
from html.parser import HTMLParser

import jsonschema
import pytest

import vetcore
from vetcore.report import json_schema
from vetcore.testing import make_sectors

FORMATS = ["json", "html", "png", "csv", "ecsv"]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def report():
    cases = make_sectors(2, snr=30, seed=7, target_id="<script>alert(1)</script>")
    eph = cases[0].ephemeris
    return vetcore.vet([c.stamp for c in cases], period=eph.period, t0=eph.t0, duration=eph.duration_hours)


def test_every_format_is_written(report, tmp_path):
    paths = report.save(tmp_path, FORMATS)
    names = sorted(p.name for p in paths)
    assert "report.json" in names and "report.html" in names
    assert "summary.csv" in names and "summary.ecsv" in names
    assert sum(n.endswith(".png") for n in names) == 3  # two sectors + summary
    for p in paths:
        assert p.parent == tmp_path.resolve() and p.stat().st_size > 0
    jsonschema.validate(json.loads((tmp_path / "report.json").read_text()), json_schema())


def test_pngs_have_the_layout_size(report, tmp_path):
    from vetcore.renderers.figures import PANEL_INCHES

    for path in report.save(tmp_path, ["png"]):
        width, height = _png_size(path.read_bytes())
        assert width >= PANEL_INCHES[0] * 110 * 0.9 and height >= PANEL_INCHES[1] * 110 * 0.9
    sector = next(p for p in tmp_path.iterdir() if p.name.endswith("_S1.png"))
    width, height = _png_size(sector.read_bytes())
    from vetcore.renderers.figures import pack

    widths = [c.plot_panels for c in report.checks.values() if c.scope.value == "sector"]
    ncols, nrows = max(widths), len(pack(widths, max(widths)))
    assert width == pytest.approx(PANEL_INCHES[0] * ncols * 110, abs=2)
    assert height == pytest.approx(PANEL_INCHES[1] * nrows * 110, abs=2)


def test_html_is_self_contained_and_escaped(report, tmp_path):
    (path,) = report.save(tmp_path, ["html"])
    page = path.read_text()
    assert "<script>" not in page  # the target name is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parser = _Collector()
    parser.feed(page)
    assert parser.images and all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert "http://" not in page and "https://" not in page
    text = " ".join(parser.text)
    assert text.index("Verdict") < text.index("Metrics") < text.index("Figures") < text.index("Configuration")
    for check in report.checks:
        assert check in text


def test_summary_row_has_statuses_per_sector(report, tmp_path):
    from astropy.table import Table

    report.save(tmp_path, ["ecsv"])
    table = Table.read(tmp_path / "summary.ecsv", format="ascii.ecsv")
    assert len(table) == 1
    assert table["target"][0] == "<script>alert(1)</script>"
    for label, result in report.results():
        column = result.check if label is None else f"{result.check}_{label}"
        assert table[column][0] == result.status.value


def test_a_broken_plot_does_not_break_the_figure(report, tmp_path):
    import attrs

    from vetcore.renderers.figures import sector_figure

    def broken(result, axes):
        raise RuntimeError("no")

    checks = {k: attrs.evolve(c, plot=broken) if c.plot else c for k, c in report.checks.items()}
    fig = sector_figure(attrs.evolve(report, checks=checks), "S1")
    assert any("plot failed" in t.get_text() for ax in fig.axes for t in ax.texts)
