"""Report serialisation: JSON Schema, NaN handling, localizations, renderers and save()."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

import vetcore
from vetcore import Check, CheckResult, Localization, Status, hookimpl
from vetcore.errors import ConfigError
from vetcore.plugins import PluginManager
from vetcore.report import SCHEMA_VERSION, json_schema
from vetcore.serialize import jsonable


def localize(ctx):
    stamp = ctx.stamp
    row, col = stamp.target_pixel
    epochs = [
        Localization.from_pixel(
            stamp, row + 0.1 * k, col, np.eye(2) * 0.04, method="toy", label=f"transit {k}"
        )
        for k in range(2)
    ]
    loc = Localization.from_pixel(
        stamp, row + 1.0, col, [[0.01, 0.0], [0.0, 0.04]], method="toy", epochs=epochs
    )
    return CheckResult(
        status=Status.FAIL,
        flags=("OFF_TARGET",),
        localization=loc,
        metrics={"snr": np.float32(12.5), "n": np.int64(3), "ok": np.bool_(True), "bad": np.inf},
        plot_data={"image": np.arange(4.0).reshape(2, 2), "nan": [np.nan, 1.0]},
    )


class LocPlugin:
    @hookimpl
    def vetcore_register_checks(self, register):
        register(
            Check(
                id="L09",
                title="toy localization",
                run=localize,
                version="3",
                flags={"OFF_TARGET": "The source is away from the target."},
            )
        )


@pytest.fixture
def report(toy_plugin, stamp_factory):
    pm = PluginManager(autoload=False, plugins=[("toy", toy_plugin), ("loc", LocPlugin())])
    stamps = [stamp_factory(sector=1, roll_deg=30.0), stamp_factory(sector=2, aperture=False)]
    return vetcore.vet(stamps, period=3.0, t0=1001.5035, duration=3.0, plugin_manager=pm)


def test_report_validates_against_schema(report):
    data = json.loads(report.to_json())
    validator = jsonschema.Draft202012Validator(json_schema(), format_checker=jsonschema.FormatChecker())
    validator.validate(data)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["vetcore_version"] == vetcore.__version__
    assert data["ephemeris"] == {
        "period_days": 3.0,
        "t0": 1001.5035,
        "time_system": "data",
        "duration_hours": 3.0,
        "depth_ppm": None,
    }
    assert data["target"]["id"] == "TIC 1"
    assert list(data["aggregates"]) == ["T90"]
    s1 = data["sectors"][0]
    assert (s1["label"], s1["n_cadences"], s1["shape"], s1["n_aperture_pixels"]) == ("S1", 1440, [11, 11], 13)
    assert s1["target_pixel"] == {"row": pytest.approx(5.0, abs=1e-9), "col": pytest.approx(5.0, abs=1e-9)}
    assert s1["pixel_scale_arcsec"] == pytest.approx(21.0, rel=1e-9)
    assert data["sectors"][1]["results"]["T01"]["status"] == "skipped"
    assert data["sectors"][1]["results"]["T01"]["flags"] == ["NO_APERTURE"]


def test_schema_rejects_malformed_results(report):
    validator = jsonschema.Draft202012Validator(json_schema())
    data = json.loads(report.to_json())
    data["sectors"][0]["results"]["L09"]["flags"] = ["off target"]
    data["aggregates"]["T90"]["status"] = "passed"
    del data["sectors"][0]["results"]["L09"]["localization"]["covariance_arcsec2"]
    errors = {e.json_path for e in validator.iter_errors(data)}
    assert errors == {
        "$.sectors[0].results.L09.flags[0]",
        "$.aggregates.T90.status",
        "$.sectors[0].results.L09.localization",
    }


def test_localization_and_numpy_values_serialise(report):
    data = json.loads(report.to_json())
    result = data["sectors"][0]["results"]["L09"]
    assert result["metrics"] == {"snr": 12.5, "n": 3, "ok": True, "bad": None}
    assert result["plot_data"] == {"image": [[0.0, 1.0], [2.0, 3.0]], "nan": [None, 1.0]}
    assert (result["check"], result["version"], result["sector"]) == ("L09", "3", 1)
    loc = result["localization"]
    # One pixel along +row at roll 30°: intermediate (x, y) = CDELT·PC·(0, 1) = (+sin, cos)·21" (CDELT1 < 0).
    assert loc["distance_arcsec"] == pytest.approx(21.0, rel=1e-4)
    assert loc["offset_arcsec"]["east"] == pytest.approx(21.0 * np.sin(np.radians(30.0)), rel=1e-3)
    assert loc["offset_arcsec"]["north"] == pytest.approx(21.0 * np.cos(np.radians(30.0)), rel=1e-3)
    assert loc["pixel"] == {"row": pytest.approx(6.0), "col": pytest.approx(5.0)}
    cov = np.array(loc["covariance_arcsec2"])
    assert np.trace(cov) == pytest.approx(21.0**2 * 0.05, rel=1e-3)  # rotation keeps the trace
    assert loc["offset_sigma"] == pytest.approx(np.sqrt(1.0 / 0.01), rel=1e-3)  # 1 px along the 0.1 px axis
    assert [e["label"] for e in loc["epochs"]] == ["transit 0", "transit 1"]
    assert loc["epochs"][0]["epochs"] == []


def test_json_is_strict_and_deterministic(report):
    text = report.to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert report.to_json() == text
    assert json.loads(text)["inputs_hash"] == report.inputs_hash


def test_jsonable_conversions():
    assert jsonable({"a": (np.float64(np.nan), np.int32(2)), 3: Status.PASS, "s": {"b", "a"}}) == {
        "a": [None, 2],
        "3": "pass",
        "s": ["a", "b"],
    }
    with pytest.raises(TypeError, match="cannot serialise object"):
        jsonable(object())


def test_jsonable_arrays():
    nested = np.array([[1.5, np.nan], [-np.inf, 2.0]])
    assert jsonable(nested) == [[1.5, None], [None, 2.0]]
    assert jsonable(np.array([0.25, np.inf], dtype=np.float32)) == [0.25, None]
    assert jsonable(np.array(np.nan)) is None and jsonable(np.array(3.0)) == 3.0
    assert jsonable(np.zeros((2, 0))) == [[], []]
    assert jsonable(np.array([1, 2], dtype=np.uint8)) == [1, 2]
    assert jsonable(np.array([True, False])) == [True, False]
    assert jsonable(np.array(["a", "b"])) == ["a", "b"]
    converted = jsonable(np.array([[0.5, np.nan]], dtype=np.float32))
    assert [type(v) for v in converted[0]] == [float, type(None)]  # Python floats, not numpy scalars
    with pytest.raises(TypeError, match="cannot serialise complex"):
        jsonable(np.array([1 + 2j]))
    # lists and tuples of Python floats, and of mixed numbers
    assert jsonable((0.5, float("nan"), -float("inf"))) == [0.5, None, None]
    assert jsonable([0.5, np.float32(np.nan), 2, np.int64(3)]) == [0.5, None, 2, 3]
    assert [type(v) for v in jsonable([np.float64(1.5), 2.5])] == [float, float]


def test_save_writes_report_json(report, tmp_path):
    paths = report.save(tmp_path / "out")
    assert paths == [(tmp_path / "out" / "report.json").resolve()]
    assert json.loads(paths[0].read_text())["target"]["id"] == "TIC 1"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.json"]  # no temporary file left
    with pytest.raises(
        ConfigError, match=r"unknown output format 'pdf' \(available: csv, ecsv, html, json, png\)"
    ):
        report.save(tmp_path / "other", formats=["pdf"])
    assert not (tmp_path / "other").exists()


def test_explain_and_statuses(report):
    result = report.result("L09", "S1")
    assert report.explain(result) == [("OFF_TARGET", "The source is away from the target.")]
    skipped = report.result("T01", "S2")
    assert report.explain(skipped) == [
        ("NO_APERTURE", "The stamp's aperture mask is empty, so the check could not run.")
    ]
    unknown = CheckResult(status="pass", flags=("WEIRD",), check="T02")
    assert report.explain(unknown) == [("WEIRD", "no explanation declared by the check")]
    rows = report.statuses()
    assert len(rows) == 2 * 3 + 1
    assert rows[-1] == {"check": "T90", "sector": None, "status": "inconclusive", "flags": [], "message": ""}
    assert {r["status"] for r in rows if r["check"] == "T02"} == {"error"}
    assert repr(report) == (
        "<Report TIC 1: sectors ['S1', 'S2'], checks ['L09', 'T01', 'T02', 'T90'], "
        "results: 2 fail, 1 pass, 2 error, 1 skipped, 1 inconclusive>"
    )
