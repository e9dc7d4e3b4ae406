"""Every real file in ../shared/data/tpf loads with the right shape, times, WCS and target."""

from __future__ import annotations

import numpy as np
import pytest

import vetcore
from vetcore.testing import shared_data

TOI5807 = vetcore.Target("TIC 188646744", ra=308.5672083, dec=43.3606889)

# file, mission, label, cadences, (rows, cols), time range, good cadences (default bitmask: the same
# cadences lightkurve keeps, see tests/test_mission.py), time system
CASES = [
    ("tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz", "TESS", "S5", 18944, (11, 11),
     (1437.97852, 1464.28797), 17876, "BTJD"),
    ("tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz", "Kepler", "Q10", 4573, (4, 5),
     (906.84593, 1000.26919), 4447, "BKJD"),
    ("tpf/aux/tess-s0019-1-3_65.489205_28.443210_10x10_astrocut.fits.gz", "TESS", "S19", 1155, (10, 10),
     (1816.09967, 1841.14105), 1150, "BTJD"),
    ("tpf/aux/tess25155310-s01-first-cadences.fits.gz", "TESS", "S1", 5, (11, 11),
     (1325.29526, 1325.30082), 4, "BTJD"),
    ("tpf/toi5807_tic188646744/sector83_tpf.npz", "TESS", "S83", 17326, (13, 11),
     (3559.45832, 3584.37721), 17326, "BTJD"),
]  # fmt: skip


@pytest.mark.parametrize("relpath, mission, label, n, shape, span, n_good, system", CASES)
def test_real_file_loads(relpath, mission, label, n, shape, span, n_good, system):
    target = TOI5807 if relpath.endswith(".npz") else None
    (stamp,) = vetcore.load(shared_data(relpath), target=target)
    assert (stamp.mission, stamp.label, stamp.n_cadences, stamp.shape) == (mission, label, n, shape)
    t = stamp.time[np.isfinite(stamp.time)]
    assert t.min() == pytest.approx(span[0], abs=1e-4) and t.max() == pytest.approx(span[1], abs=1e-4)
    assert int(stamp.good.sum()) == n_good
    assert stamp.time_system == system
    assert stamp.bjd_ref == {"BTJD": 2457000.0, "BKJD": 2454833.0}[system]
    scale = {"TESS": 21.0, "Kepler": 3.98}[mission]
    assert stamp.pixel_scale_arcsec == pytest.approx(scale, rel=0.08)
    # the WCS puts the header RA/Dec on the brightest out-of-transit pixel (within 1 px)
    image = np.nanmedian(stamp.flux[stamp.good], axis=0)
    brightest = np.unravel_index(np.nanargmax(image), image.shape)
    row, col = stamp.target_pixel
    assert abs(row - brightest[0]) <= 1.0 and abs(col - brightest[1]) <= 1.0
    assert stamp.aperture_mask.any()


def test_toi5807_target_lands_off_centre():
    (stamp,) = vetcore.load(shared_data("tpf/toi5807_tic188646744/sector83_tpf.npz"), target=TOI5807)
    row, col = stamp.target_pixel
    assert col == pytest.approx(4.53, abs=0.01) and row == pytest.approx(5.67, abs=0.01)
    assert (row, col) != pytest.approx(((13 - 1) / 2, (11 - 1) / 2), abs=0.3)  # not the stamp centre
    assert stamp.target.id == "TIC 188646744"


def test_spoc_headers_and_columns():
    (stamp,) = vetcore.load(shared_data("tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz"))
    assert stamp.target == vetcore.Target("TIC 55525572", 72.694091, -60.90545, pytest.approx(9.82), "T")
    assert stamp.meta["camera"] == 4 and stamp.meta["ccd"] == 2
    assert stamp.background is not None and stamp.background.shape == stamp.flux.shape
    assert stamp.pos_corr is not None and stamp.pos_corr.shape == (stamp.n_cadences, 2)
    assert stamp.cadence_seconds == pytest.approx(120.0, abs=0.1)
    assert int(stamp.aperture_mask.sum()) == 12 and stamp.aperture_source == "pipeline"


def test_kepler_headers():
    (stamp,) = vetcore.load(shared_data("tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz"))
    assert stamp.target.id == "KIC 5562784" and stamp.target.magnitude_band == "Kp"
    assert stamp.cadence_seconds == pytest.approx(1765.5, abs=1.0)
    assert int(stamp.aperture_mask.sum()) == 5


def test_tesscut_aperture_is_derived_and_says_so():
    (stamp,) = vetcore.load(shared_data("tpf/aux/tess-s0019-1-3_65.489205_28.443210_10x10_astrocut.fits.gz"))
    assert stamp.aperture_source == "derived"
    assert "no pipeline aperture" in stamp.meta["aperture"]
    row, col = stamp.target_pixel
    assert stamp.aperture_mask[round(row), round(col)]
    assert 3 <= stamp.aperture_mask.sum() <= 21


def test_quality_bitmask_choices():
    path = shared_data("tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz")
    n_none = vetcore.load(path, quality_bitmask="none")[0].good.sum()
    n_default = vetcore.load(path, quality_bitmask="default")[0].good.sum()
    n_hard = vetcore.load(path, quality_bitmask="hard")[0].good.sum()
    assert n_none == 17971  # finite TIME
    assert n_hard <= n_default < n_none


def test_lightkurve_object_matches_file():
    lk = pytest.importorskip("lightkurve", reason="lightkurve is an optional dependency")
    path = shared_data("tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz")
    tpf = lk.read(path)
    (from_object,) = vetcore.load(tpf)
    (from_file,) = vetcore.load(path, quality_bitmask="none")
    assert from_object.label == from_file.label
    # the object keeps lightkurve's own cadence selection
    np.testing.assert_array_equal(from_object.flux, from_file.flux[tpf.quality_mask])
    assert from_object.target_pixel == pytest.approx(from_file.target_pixel)


@pytest.mark.parametrize("bitmask", ["default", "hard", "hardest"])
def test_lightkurve_tpf_is_vetted_on_its_own_cadences(bitmask):
    lk = pytest.importorskip("lightkurve", reason="lightkurve is an optional dependency")
    path = shared_data("tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz")
    tpf = lk.read(path, quality_bitmask=bitmask)
    (stamp,) = vetcore.load(tpf, quality_bitmask="none")
    assert stamp.n_cadences == len(tpf) < 18944
    assert stamp.quality_bitmask == 0  # vetcore's preset is not applied on top
    usable = np.isfinite(tpf.time.value) & np.isfinite(tpf.flux.value).any(axis=(1, 2))
    assert int(stamp.good.sum()) == int(usable.sum())
    np.testing.assert_array_equal(stamp.time, tpf.time.value)
    # slicing the TPF slices the stamp
    (part,) = vetcore.load(tpf[100:200])
    assert part.n_cadences == 100
    np.testing.assert_array_equal(part.time, tpf.time.value[100:200])


def test_lightkurve_collection_gives_one_stamp_per_tpf():
    lk = pytest.importorskip("lightkurve", reason="lightkurve is an optional dependency")
    tess = lk.read(shared_data("tpf/tess2018319095959-s0005-0000000055525572-0125-s_tp.fits.gz"))
    kepler = lk.read(shared_data("tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz"))
    stamps = vetcore.load(lk.TargetPixelFileCollection([tess, kepler]))
    assert sorted(s.label for s in stamps) == ["Q10", "S5"]


def test_folder_and_glob(tmp_path):
    import shutil

    for rel in CASES[1][0], CASES[3][0]:
        shutil.copy(shared_data(rel), tmp_path)
    (tmp_path / "notes.txt").write_text("not data")
    stamps = vetcore.load(tmp_path)
    assert sorted(s.label for s in stamps) == ["Q10", "S1"]
    assert [s.label for s in vetcore.load(str(tmp_path / "kplr*.fits.gz"))] == ["Q10"]
    from vetcore.loading import group_by_target

    assert set(group_by_target(stamps)) == {"KIC 5562784", "TIC 25155310"}
