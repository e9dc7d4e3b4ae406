"""Bad input: one clear error per problem, naming the file; identifiers through a fake MAST."""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import vetcore
from vetcore.errors import DataError
from vetcore.testing import make_stamp, shared_data

SPOC_SMALL = "tpf/aux/tess25155310-s01-first-cadences.fits.gz"


def _spoc_copy(tmp_path: Path, name: str = "s.fits") -> Path:
    out = tmp_path / name
    out.write_bytes(gzip.decompress(shared_data(SPOC_SMALL).read_bytes()))
    return out


def _error(source, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        vetcore.load(source, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_truncated_fits(tmp_path):
    full = _spoc_copy(tmp_path)
    bad = tmp_path / "truncated_tp.fits"
    bad.write_bytes(full.read_bytes()[:20000])
    message = _error(bad)
    assert message.startswith(str(bad)) and ("truncated" in message or "cannot read" in message)


def test_fits_that_is_not_a_tpf(tmp_path):
    path = tmp_path / "image.fits"
    fits.HDUList([fits.PrimaryHDU(np.zeros((3, 3)))]).writeto(path)
    assert "not a target pixel file" in _error(path)


def test_missing_wcs_keywords(tmp_path):
    path = _spoc_copy(tmp_path)
    with fits.open(path, mode="update") as hdul:
        del hdul[1].header["1CRVL5"]
    message = _error(path)
    assert "missing WCS keywords" in message and "1CRVL5" in message


def test_all_nan_flux(tmp_path):
    path = _spoc_copy(tmp_path)
    with fits.open(path, mode="update") as hdul:
        hdul[1].data["FLUX"][:] = np.nan
    assert "NaN in every cadence" in _error(path)


def test_no_good_cadences(tmp_path):
    path = _spoc_copy(tmp_path)
    with fits.open(path, mode="update") as hdul:
        hdul[1].data["QUALITY"][:] = 32  # momentum dump on every cadence
    assert "no good cadences" in _error(path)
    assert vetcore.load(path, quality_bitmask="none")[0].good.sum() == 5


def _save_npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def _npz_arrays(**changes):
    stamp = make_stamp(seed=1, shape=(6, 5), span_days=3.0, cadence_seconds=600.0).stamp
    header = {k: v for k, v in stamp.wcs.to_header().items()}
    arrays = dict(
        time=stamp.time,
        flux=stamp.flux,
        aperture_mask=stamp.aperture_mask,
        wcs_header=np.array(header, dtype=object),
    )
    arrays.update(changes)
    return arrays


def test_npz_round_trip_and_sector_from_name(tmp_path):
    path = _save_npz(tmp_path / "tic123_sector7.npz", **_npz_arrays())
    (stamp,) = vetcore.load(path)
    assert stamp.label == "S7" and stamp.target.id == "TIC 123"


def test_npz_mismatched_shapes(tmp_path):
    arrays = _npz_arrays()
    arrays["aperture_mask"] = np.ones((3, 3), bool)
    path = _save_npz(tmp_path / "bad_s1.npz", **arrays)
    message = _error(path)
    assert message.startswith(str(path)) and "aperture mask shape (3, 3)" in message


def test_npz_refuses_a_malicious_pickle(tmp_path):
    class Evil:
        def __reduce__(self):
            return (shutil.rmtree, (str(tmp_path / "victim"),))

    (tmp_path / "victim").mkdir()
    arrays = _npz_arrays()
    path = tmp_path / "evil_s1.npz"
    _save_npz(path, **{k: v for k, v in arrays.items() if k != "wcs_header"})
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|O", "fortran_order": False, "shape": ()})
    pickle.dump(np.array(Evil(), dtype=object), buffer)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("wcs_header.npy", buffer.getvalue())
    message = _error(path)
    assert "refusing to unpickle" in message and "shutil" in message
    assert (tmp_path / "victim").exists()


def test_npz_header_must_be_plain(tmp_path):
    path = _save_npz(
        tmp_path / "x_s1.npz", **_npz_arrays(wcs_header=np.array({"CTYPE1": [1, 2]}, dtype=object))
    )
    assert "dict of FITS keywords" in _error(path)


def test_unknown_file_type_and_missing_file(tmp_path):
    odd = tmp_path / "table.txt"
    odd.write_text("a,b")
    assert "unknown file type '.txt'" in _error(odd)
    assert "no such file" in _error(tmp_path / "nothing_tp.fits")
    assert "not a target identifier" in _error("TOI5807")


def test_empty_folder(tmp_path):
    assert "folder holds no file" in _error(tmp_path)


class FakeMast:
    """Stands in for MAST: 'downloads' a shared Kepler file into the cache folder."""

    def __init__(self):
        self.calls = 0

    def fetch(self, mission, identifier, sectors, cache_dir):
        self.calls += 1
        assert (mission, identifier) == ("Kepler", "KIC 5562784")
        target = cache_dir / "mastDownload" / "Kepler" / "kplr005562784_lc_Q111111111111111111"
        target.mkdir(parents=True, exist_ok=True)
        src = shared_data("tpf/kepler/kplr005562784-2011271113734_lpd-targ.fits.gz")
        return [Path(shutil.copy(src, target))]


def test_identifier_download_then_cache_then_offline(tmp_path):
    fake = FakeMast()
    cache = tmp_path / "cache"
    (first,) = vetcore.load("KIC 5562784", cache_dir=cache, downloader=fake)
    assert first.label == "Q10" and fake.calls == 1
    (again,) = vetcore.load("kic5562784", cache_dir=cache, downloader=fake, offline=True)
    assert again.label == "Q10" and fake.calls == 1  # served from the cache, no network
    message = _error("KIC 5562784", cache_dir=tmp_path / "empty", downloader=fake, offline=True)
    assert "offline" in message and fake.calls == 1


def test_cli_exit_code_2_on_bad_file(tmp_path):
    from vetcore.cli import main

    odd = tmp_path / "x.fits"
    odd.write_bytes(b"SIMPLE  =  garbage")
    assert (
        main(["run", str(odd), "--period", "1", "--t0", "1", "--duration", "1", "--out", str(tmp_path)]) == 2
    )
