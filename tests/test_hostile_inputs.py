"""Hostile but realistic inputs: every one gets a clear message naming what is wrong, or is made harmless.

One test (or a few) per bullet of the reliability guarantees in docs/reliability.md:
bounded decompression, what a path really is, empty/missing data, impossible
geometry, spreadsheet formulas and terminal control characters.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tempfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import vetcore
from vetcore.errors import DataError
from vetcore.loaders.files import MAX_COMPRESSION_RATIO, RATIO_CHECKED_ABOVE_BYTES
from vetcore.testing import make_stamp, save_npz, shared_data

SPOC_SMALL = "tpf/aux/tess25155310-s01-first-cadences.fits.gz"
MiB = 1024**2


def _spoc_bytes() -> bytes:
    return gzip.decompress(shared_data(SPOC_SMALL).read_bytes())


def _spoc_copy(tmp_path: Path, name: str = "s_tp.fits") -> Path:
    out = tmp_path / name
    out.write_bytes(_spoc_bytes())
    return out


def _npz(tmp_path: Path, name: str = "t_s1.npz", **changes) -> Path:
    stamp = make_stamp(seed=1, shape=(6, 5), span_days=3.0, cadence_seconds=600.0).stamp
    return save_npz(stamp.replace(**changes), tmp_path / name)


def _error(source, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        vetcore.load(str(source), **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(source))
    return message


def _peak_mb(func) -> float:
    """Peak traced allocation (MB) while ``func`` runs (numpy and Python buffers are traced)."""
    tracemalloc.start()
    try:
        func()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 1e6


def _gzip_stream(head: bytes, zeros_mib: int) -> bytes:
    """gzip of ``head`` followed by ``zeros_mib`` MiB of zero bytes, compressed chunk by chunk."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts = [compressor.compress(head)]
    block = bytes(MiB)
    parts.extend(compressor.compress(block) for _ in range(zeros_mib))
    parts.append(compressor.flush())
    return b"".join(parts)


# ------------------------------------------------------------------ bounded decompression


def test_gzip_fits_inflating_beyond_its_declared_size_is_refused_early(tmp_path):
    raw = _spoc_bytes()
    bomb = tmp_path / "bomb_tp.fits.gz"
    bomb.write_bytes(_gzip_stream(raw, zeros_mib=200))  # 52 kB of FITS, then 200 MiB of zeros
    assert bomb.stat().st_size < 400_000

    messages = []
    peak = _peak_mb(lambda: messages.append(_error(bomb)))
    assert "refusing to decompress" in messages[0]
    assert f"{len(raw)} bytes its FITS headers declare" in messages[0]
    assert peak < 20.0  # stopped within a few MiB, never near the 200 MiB


def test_gzip_fits_with_a_huge_declared_size_is_bounded_by_the_ratio(tmp_path):
    # A header declaring 300 MiB of image data that compresses 1000:1: legal structure, still a bomb.
    header = fits.PrimaryHDU().header
    header["NAXIS"], header["BITPIX"] = 2, 8
    header["NAXIS1"], header["NAXIS2"] = MiB, 300
    bomb = tmp_path / "declared_tp.fits.gz"
    bomb.write_bytes(_gzip_stream(header.tostring().encode("ascii"), zeros_mib=300))

    messages = []
    peak = _peak_mb(lambda: messages.append(_error(bomb)))
    assert f"ratio > {MAX_COMPRESSION_RATIO}:1" in messages[0]
    assert peak < 3 * RATIO_CHECKED_ABOVE_BYTES / 1e6  # refused near the 64 MiB check, not at 300 MiB


def test_gzip_content_is_bounded_whatever_the_file_is_called(tmp_path):
    disguised = tmp_path / "plain_tp.fits"  # gzip content without .gz: astropy would inflate it unbounded
    disguised.write_bytes(_gzip_stream(_spoc_bytes(), zeros_mib=50))
    assert "refusing to decompress" in _error(disguised)


def test_real_compressed_files_still_load(tmp_path):
    (stamp,) = vetcore.load(shared_data(SPOC_SMALL))
    assert stamp.n_cadences == 5
    bz = tmp_path / "s_tp.fits.bz2"
    import bz2

    bz.write_bytes(bz2.compress(_spoc_bytes()))
    (again,) = vetcore.load(bz)
    assert np.array_equal(again.flux, stamp.flux, equal_nan=True)


def _replace_entries(src: Path, dst: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, entries.get(Path(info.filename).stem, old.read(info)))
    return dst


def _npy_header(shape, descr: str = "<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_npz_array_declaring_more_than_its_entry_is_refused_before_allocation(tmp_path):
    good = _npz(tmp_path)
    bad = _replace_entries(
        good, tmp_path / "huge_s1.npz", {"flux": _npy_header((10**6, 1000, 1000)) + bytes(100)}
    )
    messages = []
    peak = _peak_mb(lambda: messages.append(_error(bad)))
    assert "array 'flux' declares shape (1000000, 1000, 1000)" in messages[0]
    assert peak < 50.0  # numpy would otherwise allocate the declared 4 TB up front


def test_npz_zip_bomb_is_refused(tmp_path):
    good = _npz(tmp_path)
    bomb = tmp_path / "bomb_s1.npz"
    with zipfile.ZipFile(good) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename != "flux.npy":
                new.writestr(info.filename, old.read(info))
        with new.open("flux.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((200 * MiB // 120, 6, 5)))
            for _ in range(200):
                fh.write(bytes(MiB))
    assert bomb.stat().st_size < 1_000_000
    messages = []
    peak = _peak_mb(lambda: messages.append(_error(bomb)))
    assert "refusing to decompress" in messages[0] and "ratio" in messages[0]
    assert peak < 10.0


class _HugeReconstruct:
    """Pickles as numpy's reconstructor asked for a 10⁹-element array."""

    def __reduce__(self):
        return (np._core.multiarray._reconstruct, (np.ndarray, (10**9,), b"b"))


class _HugeState:
    """Pickles as a tiny array whose restored state claims 10⁹ elements."""

    def __reduce__(self):
        state = (1, (10**9,), np.dtype(object), False, [{"CTYPE1": "RA---TAN"}])
        return (np._core.multiarray._reconstruct, (np.ndarray, (0,), b"b"), state)


@pytest.mark.parametrize("payload", [_HugeReconstruct(), _HugeState()], ids=["reconstruct", "setstate"])
def test_restricted_unpickler_allocations_are_bounded(tmp_path, payload):
    good = _npz(tmp_path)
    raw = _npy_header((), "|O") + pickle.dumps(payload, protocol=3)
    bad = _replace_entries(good, tmp_path / "pickle_s1.npz", {"wcs_header": raw})
    messages = []
    peak = _peak_mb(lambda: messages.append(_error(bad)))
    assert "refusing an array of shape (1000000000,)" in messages[0]
    assert peak < 50.0


def test_oversized_wcs_header_entry_is_refused(tmp_path):
    good = _npz(tmp_path)
    raw = _npy_header((), "|O") + pickle.dumps({"COMMENT": "x" * (2 * MiB)}, protocol=3)
    bad = _replace_entries(good, tmp_path / "bighead_s1.npz", {"wcs_header": raw})
    assert "a WCS header is at most" in _error(bad)


# ------------------------------------------------------------------ what a path really is


def test_fifo_is_named_not_opened(tmp_path):
    fifo = tmp_path / "pipe_tp.fits"
    os.mkfifo(fifo)
    assert "named pipe (FIFO)" in _error(fifo)  # opening it would block forever


def test_symlink_loop_and_dangling_link(tmp_path):
    loop = tmp_path / "loop_tp.fits"
    loop.symlink_to(loop.name)
    assert "symbolic link loop" in _error(loop)
    dangling = tmp_path / "gone_s1.npz"
    dangling.symlink_to(tmp_path / "missing.npz")
    assert "dangling symbolic link" in _error(dangling)


def test_empty_file(tmp_path):
    empty = tmp_path / "empty_tp.fits"
    empty.touch()
    assert "empty file (0 bytes)" in _error(empty)


def _load_as_nobody(path: Path) -> str:
    """The loader's message for ``path`` in a forked child that dropped root (root reads anything)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        os.close(read)
        code = 0
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                vetcore.load(str(path))
                text = "loaded"
            except DataError as exc:
                text = str(exc)
            os.write(write, text.encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        text = fh.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return text


@pytest.mark.parametrize("suffix", ["_tp.fits", "_s1.npz"])
def test_unreadable_file_says_permission_denied(tmp_path, suffix):
    folder = Path(tempfile.mkdtemp(prefix="vetcore-perm-"))
    try:
        folder.chmod(0o755)
        path = folder / f"locked{suffix}"
        if suffix.endswith(".npz"):
            path.write_bytes(_npz(tmp_path).read_bytes())
        else:
            path.write_bytes(_spoc_bytes())
        path.chmod(0o000)
        message = _load_as_nobody(path) if os.geteuid() == 0 else _error(path)
        assert message.startswith(str(path)) and "permission denied" in message
        assert "corrupt" not in message
    finally:
        for child in folder.iterdir():
            child.chmod(0o600)
            child.unlink()
        folder.rmdir()


# ------------------------------------------------------------------ empty or missing data


def test_zero_cadences_say_no_cadences(tmp_path):
    with fits.open(io.BytesIO(_spoc_bytes())) as hdul:
        hdul[1].data = hdul[1].data[:0]
        hdul.writeto(tmp_path / "zero_tp.fits")
    assert "no cadences" in _error(tmp_path / "zero_tp.fits")
    stamp = make_stamp(seed=1, shape=(6, 5), span_days=3.0, cadence_seconds=600.0).stamp
    no_arrays = dict(flux_err=None, quality=None, background=None)
    empty = stamp.replace(time=stamp.time[:0], flux=stamp.flux[:0], **no_arrays)
    assert "no cadences" in _error(save_npz(empty, tmp_path / "zero_s1.npz"))


def _fits_without_aperture(tmp_path: Path, how: str) -> Path:
    with fits.open(io.BytesIO(_spoc_bytes())) as hdul:
        if how == "missing":
            del hdul["APERTURE"]
        else:
            hdul["APERTURE"].data[:] = 0
        path = tmp_path / f"{how}_tp.fits"
        hdul.writeto(path)
    return path


def _npz_without_aperture(tmp_path: Path, how: str) -> Path:
    path = _npz(tmp_path, f"{how}_s1.npz")
    if how == "empty":
        return _npz(tmp_path, f"{how}_s1.npz", aperture_mask=np.zeros((6, 5), bool))
    with zipfile.ZipFile(path) as old:
        entries = {i.filename: old.read(i) for i in old.infolist() if i.filename != "aperture_mask.npy"}
    with zipfile.ZipFile(path, "w") as new:
        for name, data in entries.items():
            new.writestr(name, data)
    return path


@pytest.mark.parametrize("how", ["missing", "empty"])
@pytest.mark.parametrize("make", [_fits_without_aperture, _npz_without_aperture], ids=["fits", "npz"])
def test_missing_or_empty_aperture_is_derived_and_flagged_alike(tmp_path, make, how):
    (stamp,) = vetcore.load(make(tmp_path, how))
    assert stamp.aperture_source == "derived"
    assert stamp.aperture_mask.any()
    assert "derived aperture" in stamp.meta["aperture"]
    row, col = (round(v) for v in stamp.target_pixel)
    assert stamp.aperture_mask[row, col]  # grown from the target's own pixel


# ------------------------------------------------------------------ impossible geometry


def test_nan_wcs_card_in_fits_names_the_keyword(tmp_path):
    raw = bytearray(_spoc_bytes())
    at = raw.find(b"1CRVL5  =")
    raw[at : at + 80] = b"1CRVL5  = " + b"NAN".rjust(20) + b" " * 50
    path = tmp_path / "nanwcs_tp.fits"
    path.write_bytes(bytes(raw))
    message = _error(path)
    assert "WCS header keyword 1CRVL5" in message


def test_nan_wcs_value_in_npz_names_the_keyword(tmp_path):
    stamp = make_stamp(seed=1, shape=(6, 5), span_days=3.0, cadence_seconds=600.0).stamp
    path = save_npz(stamp, tmp_path / "nanwcs_s1.npz")
    with np.load(path, allow_pickle=True) as npz:  # our own file, written just above
        arrays = {k: npz[k] for k in npz.files}
    header = arrays["wcs_header"].item()
    header["CRVAL1"] = float("nan")
    arrays["wcs_header"] = np.array(header, dtype=object)
    np.savez(path, **arrays)
    assert "wcs_header keyword CRVAL1 is not finite" in _error(path)


# ------------------------------------------------------------------ what reaches a spreadsheet or a terminal


def test_summary_csv_neutralises_formulas_and_keeps_numbers():
    from vetcore.renderers.summary import summary_table, table_text

    rows = [
        {"target": '=HYPERLINK("http://evil","x")', "ra": -12.5, "errors": "@SUM(A1)", "note": "-2.5"},
        {"target": "+1+cmd|' /C calc'!A0", "ra": 3.0, "errors": "-cmd", "note": "fine"},
    ]
    csv = table_text(summary_table(rows), "ascii.csv").splitlines()
    assert csv[1] == '"\'=HYPERLINK(""http://evil"",""x"")",-12.5,\'@SUM(A1),-2.5'
    assert csv[2] == "'+1+cmd|' /C calc'!A0,3.0,'-cmd,fine"
    ecsv = table_text(summary_table(rows), "ascii.ecsv")
    assert "'=" not in ecsv and "=HYPERLINK" in ecsv  # ECSV is for programs: text unchanged


def test_progress_lines_strip_control_characters():
    from vetcore.progress import StreamProgress, printable

    hostile = "TIC 1\x1b[2J\x1b]0;owned\x07\r\nfake line\u202e"
    assert printable(hostile) == "TIC 1 fake line"
    stream = io.StringIO()
    StreamProgress(stream)(
        "check_done", target=hostile, sector="S1", check="V08", status="pass", message=hostile, elapsed_s=0.1
    )
    line = stream.getvalue()
    assert line.count("\n") == 1 and "\x1b" not in line and "\r" not in line and "\u202e" not in line
    assert line.startswith("[TIC 1 fake line] S1 V08: pass")


# ------------------------------------------------------------------ parameter ranges

#: Checks whose numeric parameters must all declare a valid range.
RANGED_CHECKS = ("X01",)


@pytest.mark.parametrize("check_id", RANGED_CHECKS)
def test_every_numeric_parameter_declares_its_range(check_id):
    from vetcore.plugins import PluginManager

    check = PluginManager().checks[check_id]
    unranged = [
        p.name for p in check.params if p.type in ("int", "float") and p.choices is None and not p.range_text
    ]
    assert not unranged, f"{check_id} parameters without a declared range: {unranged}"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sigma_threshold", "nan", "must be a finite number in (0, inf), got nan"),
        ("sigma_threshold", "-inf", "must be a finite number in (0, inf), got -inf"),
        ("min_per_parity", "-4", "must be in [1, inf), got -4"),
        ("in_fraction", "1.5", "must be in (0, 1], got 1.5"),
    ],
)
def test_out_of_range_parameter_exits_2_before_any_data_is_read(tmp_path, capsys, key, value, expected):
    from vetcore.cli import main

    config = tmp_path / "vetcore.toml"
    config.write_text(f"[checks.X01]\n{key} = {value}\n")
    never_read = tmp_path / "not_there_tp.fits"  # loading it first would say "no such file"
    argv = ["run", str(never_read), "--period", "2", "--t0", "1", "--duration", "2", "--config", str(config)]
    assert main([*argv, "--checks", "X01", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"vetcore: error: {config}: checks.X01.{key}: {expected}"
    assert not (tmp_path / "out").exists()
