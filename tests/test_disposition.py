"""One disposition per target: where it comes from, and where it shows (JSON, HTML, terminal,
summary, exit code)."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

import vetcore
from vetcore import CheckResult, Localization, Status
from vetcore.cli import main
from vetcore.disposition import Disposition, report_disposition
from vetcore.report import json_schema
from vetcore.sky import offset_to_sky
from vetcore.testing import SyntheticStar, make_sectors, save_npz

RA, DEC = 120.0, -50.0


def loc(east: float, north: float, sigma: float) -> Localization:
    ra, dec = offset_to_sky(east, north, RA, DEC)
    return Localization("X", float(ra), float(dec), (east, north), np.eye(2) * sigma**2)


def result(status: str, localization: Localization | None = None, disposition=None) -> CheckResult:
    return CheckResult(status=Status(status), localization=localization, disposition=disposition)


def test_declared_by_a_target_check():
    declared = Disposition("off_target", "source 30″ away", confusion_radius_arcsec=3.0, likely_host="A")
    d = report_disposition(
        {"V25": result("fail", disposition=declared)}, [("S1", {"V09": result("pass", loc(0, 0, 1))})]
    )
    assert d.verdict == "off_target" and d.likely_host == "A" and d.checks == ("V25",)
    # two target checks declare: the more concerning wins
    calm = Disposition("on_target", "fine", checks=("Z1",))
    both = report_disposition(
        {"Z1": result("pass", disposition=calm), "V25": result("fail", disposition=declared)}, []
    )
    assert both.verdict == "off_target"
    with pytest.raises(ValueError, match="disposition verdict must be one of"):
        Disposition("maybe", "?")


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        (("pass", "pass"), "on_target"),
        (("pass", "inconclusive"), "on_target"),
        (("fail", "inconclusive"), "off_target"),
        (("pass", "fail"), "inconsistent"),
        (("inconclusive", "inconclusive"), "inconclusive"),
    ],
)
def test_fallback_from_sector_results(statuses, verdict):
    sectors = [(f"S{i}", {"V09": result(s, loc(1.0, 0.0, 2.0 + i))}) for i, s in enumerate(statuses, 1)]
    d = report_disposition({}, sectors)
    assert d.verdict == verdict
    assert d.reason.startswith("no target-level check; from the sector checks: V09 S1")
    assert d.confusion_radius_arcsec == pytest.approx(9.0)  # the most precise localization: 3 × 3″
    assert d.likely_host == ("target" if verdict == "on_target" else None)


def test_fallback_when_the_target_check_errored_or_nothing_localized():
    crashed = {"V25": result("error")}
    d = report_disposition(
        crashed, [("S1", {"V08": result("inconclusive"), "V09": result("error", loc(0, 0, 1))})]
    )
    assert d.verdict == "inconclusive" and d.confusion_radius_arcsec is None
    assert d.reason == "V25 did not run to completion; no check localized the transit source"


@pytest.fixture(scope="module")
def neighbour_data(tmp_path_factory):
    """Two sectors of a target whose transit is on a star 30″ east, as npz files, and a neighbour list."""
    folder = tmp_path_factory.mktemp("disposition")
    stars = (SyntheticStar(flux=3.0e4), SyntheticStar(east_arcsec=30.0, flux=1.5e4))
    cases = make_sectors(
        2, stars=stars, transit_star=1, snr=30, seed=5, ra=RA, dec=DEC, target_id="T5", shape=(9, 9)
    )
    files = [save_npz(c.stamp, folder / f"t5_s{c.stamp.sector}.npz") for c in cases]
    rows = ["id,ra,dec,mag", f"T5,{RA},{DEC},10.0"]
    ra, dec = offset_to_sky(30.0, 0.0, RA, DEC)
    rows.append(f"NEIGHBOUR,{float(ra):.9f},{float(dec):.9f},10.75")
    listed = folder / "near.csv"
    listed.write_text("\n".join(rows) + "\n")
    return files, cases[0].ephemeris, listed


def _args(files, eph, out):
    return [*map(str, files), "--period", str(eph.period), "--t0", str(eph.t0), "--duration",
            str(eph.duration_hours), "--out", str(out), "--quiet"]  # fmt: skip


def test_report_json_html_and_summary_lead_with_the_disposition(neighbour_data, tmp_path):
    files, eph, listed = neighbour_data
    report = vetcore.vet(
        files, period=eph.period, t0=eph.t0, duration=eph.duration_hours, checks=["V08", "V09", "V25"],
        neighbours=listed,
    )  # fmt: skip
    d = report.disposition
    assert d.verdict == "off_target" and d.likely_host == "NEIGHBOUR" and d.neighbours == "near.csv (2 stars)"
    doc = report.to_dict()
    jsonschema.validate(doc, json_schema())
    assert list(doc)[list(doc).index("ephemeris") + 1] == "disposition"
    assert (
        doc["disposition"]["hosts"][0]["id"] == "NEIGHBOUR"
        and doc["disposition"]["hosts"][0]["probability"] > 0.99
    )
    from vetcore.renderers.html_report import to_html
    from vetcore.renderers.summary import summary_row

    page = to_html(report)
    box = page.index('class="disposition fail"')
    assert box < page.index('class="verdict fail">V25')  # the disposition comes first
    assert "off target</p>" in page[box:] and "<td>NEIGHBOUR</td>" in page[box:]
    row = summary_row(report)
    assert row["disposition"] == "off_target" and row["likely_host"] == "NEIGHBOUR"
    assert row["confusion_radius_arcsec"] == pytest.approx(d.confusion_radius_arcsec)
    assert row["disposition_reason"] == d.reason
    # the listed neighbour is drawn on the pixel images of the sector figure (V09's among them)
    from vetcore.renderers.figures import sector_figure

    fig = sector_figure(report, report.sectors[0].label)
    labelled = [ax for ax in fig.axes if any(t.get_text().startswith("NEIGHBOUR ") for t in ax.texts)]
    assert len(labelled) >= 3  # V09's out-of-transit, difference and SNR images at least
    # without a neighbour list the report says the verdict rests on the confusion radius alone
    bare = vetcore.vet(
        files, period=eph.period, t0=eph.t0, duration=eph.duration_hours, checks=["V08", "V09", "V25"]
    )
    assert bare.disposition.neighbours is None and bare.disposition.likely_host is None
    assert "no neighbour list" in bare.disposition.reason
    assert "the verdict rests on the confusion radius alone" in to_html(bare)


def test_cli_last_line_and_fail_on(neighbour_data, tmp_path, capsys):
    files, eph, listed = neighbour_data
    argv = ["run", *_args(files, eph, tmp_path / "a"), "--checks", "V08,V09,V25", "--neighbours", str(listed)]
    assert main(argv) == 0  # default: the exit code does not depend on the verdict
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("disposition: off_target (likely host: NEIGHBOUR; 3σ confusion radius ")
    assert main([*argv, "--fail-on", "off_target,inconsistent"]) == 3
    capsys.readouterr()
    assert main([*argv, "--fail-on", "inconsistent"]) == 0
    capsys.readouterr()
    assert main([*argv, "--fail-on", "offtarget"]) == 2
    assert "--fail-on: expected comma-separated verdicts from on_target" in capsys.readouterr().err


def test_cli_bad_neighbour_file_is_one_line_exit_2(neighbour_data, tmp_path, capsys):
    files, eph, _ = neighbour_data
    bad = tmp_path / "bad.csv"
    bad.write_text("id,ra,dec\nA,120.0,-50.0\n")
    code = main(["run", *_args(files, eph, tmp_path / "b"), "--checks", "V08", "--neighbours", str(bad)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err == f"vetcore: error: {bad}: column 'mag' missing (need id, ra, dec, mag; found id, ra, dec)"


def test_cli_tic_offline_without_cache_is_a_clear_error(neighbour_data, tmp_path, capsys):
    files, eph, _ = neighbour_data
    argv = ["run", *_args(files, eph, tmp_path / "c"), "--checks", "V08", "--neighbours", "tic", "--offline",
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    assert main(argv) == 2
    assert "offline and no cached neighbour list" in capsys.readouterr().err


def test_batch_summary_columns_and_fail_on(neighbour_data, tmp_path, capsys):
    files, eph, listed = neighbour_data
    table = tmp_path / "candidates.csv"
    sources = ";".join(str(f) for f in files)
    table.write_text(
        f"target,source,period,t0,duration\nT5,{sources},{eph.period},{eph.t0},{eph.duration_hours}\n"
    )
    out = tmp_path / "batch"
    argv = [
        "batch",
        str(table),
        "--out",
        str(out),
        "--executor",
        "serial",
        "--quiet",
        "--neighbours",
        str(listed),
    ]
    assert main([*argv, "--fail-on", "off_target"]) == 3
    text = capsys.readouterr().out
    assert "dispositions: 1 off_target" in text
    from astropy.table import Table

    summary = Table.read(out / "summary.ecsv")
    assert summary["disposition"][0] == "off_target" and summary["likely_host"][0] == "NEIGHBOUR"
    assert summary["confusion_radius_arcsec"][0] > 0
    report = json.loads((out / "T5" / "report.json").read_text())
    assert report["disposition"]["likely_host"] == "NEIGHBOUR"
    # resumed: the same inputs are skipped, and the exit code still reflects the stored disposition
    assert main([*argv, "--fail-on", "off_target"]) == 3
    assert "1 skipped" in capsys.readouterr().out
    assert main(argv) == 0
