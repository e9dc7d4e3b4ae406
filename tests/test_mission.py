"""The mission table: quality presets identical to lightkurve's, and every preset usable at load time."""

from __future__ import annotations

from importlib.resources import as_file, files

import numpy as np
import pytest

from vetcore.config import Config
from vetcore.demo import CASES
from vetcore.errors import ConfigError
from vetcore.mission import BJD_OFFSETS, K2, KEPLER, MISSIONS, QUALITY_PRESETS, TESS, TESSCUT, resolve_bitmask
from vetcore.session import Session
from vetcore.testing import shared_data
from vetcore.testing.synthetic import DEFAULT_BITMASK

LIGHTKURVE = "lightkurve (optional) holds the reference presets"


@pytest.fixture(scope="module")
def lightkurve_flags():
    utils = pytest.importorskip("lightkurve.utils", reason=LIGHTKURVE)
    kepler = utils.KeplerQualityFlags
    return {"TESS": utils.TessQualityFlags, "Kepler": kepler, "K2": kepler}


@pytest.mark.parametrize("mission", ["TESS", "Kepler", "K2"])
def test_quality_presets_are_lightkurves(lightkurve_flags, mission):
    flags = lightkurve_flags[mission]
    presets = MISSIONS[mission].quality_presets
    assert presets["default"] == flags.DEFAULT_BITMASK
    assert presets["hard"] == flags.HARD_BITMASK
    assert presets["hardest"] == flags.HARDEST_BITMASK
    assert presets["none"] == 0
    assert sorted(MISSIONS[mission].quality_flags) == sorted(flags.STRINGS)


def test_mission_facts():
    assert {m.name: (m.time_system, m.bjd_offset) for m in MISSIONS.values()} == {
        "TESS": ("BTJD", 2457000.0),
        "Kepler": ("BKJD", 2454833.0),
        "K2": ("BKJD", 2454833.0),
    }
    assert BJD_OFFSETS == {"BTJD": 2457000.0, "BKJD": 2454833.0, "BJD": 0.0}
    assert [TESS.label(83), KEPLER.label(10), K2.label(5)] == ["S83", "Q10", "C5"]
    assert (TESS.pixel_scale_arcsec, KEPLER.pixel_scale_arcsec) == (21.0, 3.98)
    assert (TESSCUT.name, TESSCUT.flavour) == ("TESS", "TESScut")
    assert TESSCUT.quality_presets == TESS.quality_presets
    assert DEFAULT_BITMASK == {name: m.quality_presets["default"] for name, m in MISSIONS.items()}
    assert set(QUALITY_PRESETS) == set(TESS.quality_presets) == set(KEPLER.quality_presets)


def test_resolve_bitmask():
    assert resolve_bitmask("HARDEST", "TESS") == 65535
    assert resolve_bitmask(5, "Kepler") == 5
    for bad in ("strict", True, -1):
        with pytest.raises(ConfigError, match="quality_bitmask"):
            resolve_bitmask(bad, "TESS")


@pytest.mark.parametrize("case", ["toi5807", "koi608"])
@pytest.mark.parametrize("preset", QUALITY_PRESETS)
def test_every_preset_works_at_load_time(case, preset):
    session = Session(Config.from_dict({"data": {"quality_bitmask": preset}}), checks=["V08"])
    with as_file(files("vetcore.demo").joinpath("data", CASES[case].filename)) as path:
        (stamp,) = session.load(str(path))
    expected = MISSIONS[stamp.mission].quality_presets[preset]
    assert stamp.quality_bitmask == expected
    flagged = (stamp.quality & expected) != 0
    assert not np.any(stamp.good & flagged)


@pytest.mark.parametrize(
    "relpath",
    [
        "tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz",
        "tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz",
    ],
)
@pytest.mark.parametrize("preset", ["default", "hard", "hardest"])
def test_real_files_keep_the_cadences_lightkurve_keeps(relpath, preset):
    lk = pytest.importorskip("lightkurve", reason=LIGHTKURVE)
    path = shared_data(relpath)
    (stamp,) = Session({"data": {"quality_bitmask": preset}}, checks=["V08"]).load(str(path))
    tpf = lk.read(str(path), quality_bitmask=preset)
    kept = np.isfinite(tpf.time.value) & np.isfinite(tpf.flux.value).any(axis=(1, 2))
    assert np.array_equal(stamp.time[stamp.good], tpf.time.value[kept])
