"""Hostile but realistic inputs: every one gets a clear message naming what is wrong, or is made harmless.

One test (or a few) per bullet of the reliability guarantees in docs/reliability.md:
bounded decompression, what a path really is, empty/missing data, impossible
geometry, spreadsheet formulas and terminal control characters.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import sys
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

#: Checks whose numeric parameters must all declare a valid range (the builtin checks and the example).
RANGED_CHECKS = ("V08", "V09", "V25", "X01")


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


# ------------------------------------------------------------------ options checked before any work


def _synthetic_npz(tmp_path: Path, name: str = "syn_s1.npz"):
    case = make_stamp(seed=3, shape=(9, 9), snr=25.0)
    return save_npz(case.stamp, tmp_path / name), case


def _run_argv(path: Path, case, *extra: str) -> list[str]:
    e = case.ephemeris
    return [
        "run",
        str(path),
        "--period",
        str(e.period),
        "--t0",
        str(e.t0),
        "--duration",
        str(e.duration_hours),
        *extra,
    ]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_t0_exits_2_naming_the_option(tmp_path, capsys, value):
    from vetcore.cli import main

    path, _ = _synthetic_npz(tmp_path)
    argv = [
        "run",
        str(path),
        "--period",
        "2",
        "--duration",
        "2",
        "--out",
        str(tmp_path / "out"),
        f"--t0={value}",
    ]
    assert main(argv) == 2
    assert f"argument --t0: '{value}' is not a finite number" in capsys.readouterr().err
    with pytest.raises(vetcore.errors.ConfigError, match="t0 must be a finite time"):
        vetcore.vet(path, period=2.0, t0=float(value), duration=2.0)


def test_out_is_validated_before_any_data_is_read(tmp_path, capsys):
    from vetcore.cli import main

    a_file = tmp_path / "report.txt"
    a_file.write_text("x")
    never_read = tmp_path / "missing_tp.fits"
    base = ["run", str(never_read), "--period", "2", "--t0", "1", "--duration", "2"]
    assert main([*base, "--out", ""]) == 2
    assert capsys.readouterr().err.strip() == "vetcore: error: --out: empty path; give an output folder"
    assert main([*base, "--out", str(a_file)]) == 2
    assert f"--out: {a_file} exists and is not a folder" in capsys.readouterr().err
    assert main([*base, "--out", str(a_file / "sub")]) == 2
    assert f"--out: cannot create {a_file / 'sub'}: {a_file} is not a folder" in capsys.readouterr().err
    assert main(["batch", str(tmp_path / "none.csv"), "--out", ""]) == 2
    assert "--out: empty path" in capsys.readouterr().err


def test_sectors_not_in_the_data_name_the_sectors_that_are(tmp_path, capsys):
    from vetcore.cli import main

    path, case = _synthetic_npz(tmp_path)
    assert main([*_run_argv(path, case, "--sectors", "99", "--out", str(tmp_path / "out"))]) == 2
    assert f"{path}: no data for sectors 99 (have: S1)" in capsys.readouterr().err


def test_target_off_the_stamp_from_ra_dec_exits_2_naming_the_option(tmp_path, capsys):
    from vetcore.cli import main

    path, case = _synthetic_npz(tmp_path)
    ra, dec = case.stamp.target.ra, case.stamp.target.dec
    off = ["--ra", f"{ra + 0.5:.6f}", "--dec", f"{dec:.6f}", "--out", str(tmp_path / "out")]
    assert main(_run_argv(path, case, *off)) == 2
    err = capsys.readouterr().err
    assert "(from --ra/--dec) falls at pixel" in err and "outside the 9x9 stamp" in err
    assert not (tmp_path / "out").exists()
    near = ["--ra", f"{ra + 0.001:.6f}", "--dec", f"{dec:.6f}", "--out", str(tmp_path / "out"), "--quiet"]
    assert main(_run_argv(path, case, *near, "--checks", "V08")) == 0  # 2.3″ away: on the stamp


def test_target_off_the_stamp_from_the_header_names_the_keywords(tmp_path):
    with fits.open(io.BytesIO(_spoc_bytes())) as hdul:
        hdul[0].header["RA_OBJ"] = (hdul[0].header["RA_OBJ"] + 1.0) % 360.0
        hdul.writeto(tmp_path / "moved_tp.fits")
    with pytest.raises(DataError, match=r"\(from header keywords RA_OBJ/DEC_OBJ\) falls at pixel"):
        vetcore.vet(tmp_path / "moved_tp.fits", period=1.0, t0=1326.0, duration=2.0, checks=["V08"])


def test_cli_output_strips_control_characters_from_names_and_messages(tmp_path, capsys):
    from vetcore.cli import main

    path, case = _synthetic_npz(tmp_path)
    name = "TIC\x1b[2J\x1b]0;pwned\x07 1\r\n"
    argv = _run_argv(path, case, "--target", name, "--checks", "V08", "--out", str(tmp_path / "out"))
    assert main(argv) == 0
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert captured.out.startswith("TIC 1: 1 sector(s), 1 check(s)")


# ------------------------------------------------------------------ a plugin cannot corrupt others


def _ctx(case, check, **params):
    from vetcore.model import Params, SectorContext

    values = {p.name: p.default for p in check.params} | params
    return SectorContext(stamp=case.stamp, ephemeris=case.ephemeris, params=Params(values))


def _check(run, check_id: str = "H01"):
    from vetcore import Check

    return Check(id=check_id, title="hostile", run=run)


@pytest.fixture(scope="module")
def case():
    return make_stamp(seed=4, shape=(9, 9), snr=25.0)


def _status(result) -> tuple[str, tuple[str, ...]]:
    return result.status.value, tuple(result.flags)


def test_a_check_that_writes_into_its_stamp_fails_alone(case):
    from vetcore.runner import execute_check

    flux_before = case.stamp.flux.copy()
    crval_before = case.stamp.wcs.wcs.crval.copy()

    def vandal(ctx):
        ctx.stamp.wcs.wcs.crval = [0.0, 0.0]  # a private copy: harmless to the others
        ctx.stamp.flux[:] = 0.0
        return vetcore.CheckResult(status="pass")

    result = execute_check(_check(vandal), _ctx(case, _check(vandal)))
    assert result.status.value == "error" and "read-only" in result.message
    assert np.array_equal(case.stamp.flux, flux_before) and np.array_equal(
        case.stamp.wcs.wcs.crval, crval_before
    )
    for attack in (
        lambda ctx: ctx.stamp.aperture_mask.__setitem__((0, 0), True),
        lambda ctx: ctx.stamp.meta.__setitem__("product", "forged"),
        lambda ctx: setattr(ctx.stamp, "sector", 7),
    ):
        assert execute_check(_check(attack), _ctx(case, _check(attack))).status.value == "error"
    assert case.stamp.sector == 1 and not case.stamp.aperture_mask[0, 0]


def test_target_checks_get_copies_of_the_sector_results(case):
    from vetcore.model import CheckResult, Params, TargetContext
    from vetcore.runner import execute_check

    sector = {"S1": {"V08": CheckResult(status="pass", metrics={"x": 1.0}, check="V08")}}

    def meddle(ctx):
        ctx.results["S1"]["V08"].metrics["x"] = 99.0  # a copy
        ctx.results["S1"].pop("V08")  # read-only: raises

    ctx = TargetContext(case.stamp.target, case.ephemeris, Params({}), (case.stamp,), sector)
    check = vetcore.Check(id="H02", title="meddler", run=meddle, scope="target", requires=())
    assert execute_check(check, ctx).status.value == "error"
    assert sector["S1"]["V08"].metrics == {"x": 1.0}


@pytest.mark.parametrize(
    ("metrics", "plot_data", "message"),
    [
        ({"bad": object()}, {}, "metric 'bad' is a object"),
        ({"bad": [1, 2]}, {}, "metric 'bad' is a list"),
        ({"long": "x" * 20_000}, {}, "metric 'long' is 20000 characters long"),
        ({}, {"image": object()}, "cannot be written to JSON"),
        ({}, {"big": np.random.default_rng(0).random(2_000_000)}, "MiB as JSON"),
    ],
    ids=["object", "list", "long-text", "plot-object", "oversized"],
)
def test_unrecordable_results_become_that_checks_error(case, metrics, plot_data, message):
    from vetcore.runner import execute_check

    check = _check(lambda ctx: vetcore.CheckResult(status="pass", metrics=metrics, plot_data=plot_data))
    result = execute_check(check, _ctx(case, check))
    assert _status(result) == ("error", ("INVALID_RESULT",)) and message in result.message
    from vetcore.serialize import result_to_dict

    json_text = json.dumps(result_to_dict(result), allow_nan=False)  # the report can always be written
    assert "INVALID_RESULT" in json_text


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1.5, -2.2250738585072014e-308, 1e300], "b": None, "c": True, "d": 'é\U0001f600\n"', "e": []},
        [[0.1, 2], {"x": [{"y": -(10**30)}]}, (), {}],
        {7: "int key", 2.5: "float key", None: "null key", True: "bool key"},
        np.random.default_rng(1).normal(size=500).tolist(),
    ],
    ids=["mixed", "nested", "keys", "series"],
)
def test_result_size_bound_holds_and_fails_like_json(value):
    from vetcore.integrity import _json_length_bound

    assert _json_length_bound(value) >= len(json.dumps(value, allow_nan=False))


@pytest.mark.parametrize(
    "value", [[1.0, float("nan")], {"x": float("inf")}, {float("nan"): 1}, [object()], {(1, 2): 3}, {1, 2}]
)
def test_result_size_bound_rejects_what_json_rejects(value):
    from vetcore.integrity import _json_length_bound

    with pytest.raises((TypeError, ValueError)) as from_json:
        json.dumps(value, allow_nan=False)
    with pytest.raises(from_json.type):
        _json_length_bound(value)


def test_a_pass_on_non_finite_metrics_or_without_transits_is_withdrawn(case):
    from vetcore.model import Ephemeris
    from vetcore.runner import execute_check

    nan_pass = _check(lambda ctx: vetcore.CheckResult(status="pass", metrics={"sigma": float("nan"), "n": 3}))
    result = execute_check(nan_pass, _ctx(case, nan_pass))
    assert (
        _status(result) == ("inconclusive", ("NONFINITE_METRICS",)) and "non-finite sigma" in result.message
    )
    inf_fail = _check(lambda ctx: vetcore.CheckResult(status="fail", metrics={"sigma": float("inf")}))
    assert execute_check(inf_fail, _ctx(case, inf_fail)).status.value == "fail"  # only a pass is withdrawn

    honest = _check(lambda ctx: vetcore.CheckResult(status="pass", metrics={"n": 3}, message="looks fine"))
    assert execute_check(honest, _ctx(case, honest)).status.value == "pass"
    e = case.ephemeris
    between = Ephemeris(period=e.period, t0=e.t0 + e.period / 2, duration_hours=e.duration_hours)
    from vetcore.model import Params, SectorContext

    no_transit = SectorContext(
        stamp=case.stamp,
        ephemeris=Ephemeris(period=1000.0, t0=float(case.stamp.time[-1]) + 100.0, duration_hours=2.0),
        params=Params({}),
    )
    result = execute_check(honest, no_transit)
    assert _status(result) == ("inconclusive", ("NO_TRANSIT_IN_DATA",)) and "looks fine" in result.message
    assert execute_check(honest, SectorContext(case.stamp, between, Params({}))).status.value == "pass"


def test_sys_exit_in_a_check_is_caught(case):
    from vetcore.runner import execute_check

    check = _check(lambda ctx: sys.exit(3))
    result = execute_check(check, _ctx(case, check))
    assert _status(result) == ("error", ("CHECK_EXITED",)) and "sys.exit(3)" in result.message


def _hang(ctx):
    while True:
        pass


def _sleep(ctx):
    import time

    time.sleep(600)


@pytest.mark.parametrize("body", [_hang, _sleep], ids=["busy-loop", "sleep"])
def test_a_hung_check_is_stopped_by_the_time_limit_and_the_run_goes_on(case, body):
    from vetcore.runner import run_sector_checks

    hung, fine = _check(body, "H01"), _check(lambda ctx: vetcore.CheckResult(status="pass"), "H02")
    params = {"H01": vetcore.Params({}), "H02": vetcore.Params({})}
    results = run_sector_checks(case.stamp, case.ephemeris, [hung, fine], params, time_limit_s=0.5)
    assert (
        _status(results["H01"]) == ("error", ("TIME_LIMIT",))
        and "check_time_limit_s = 0.5" in results["H01"].message
    )
    assert 0.5 <= results["H01"].elapsed_s < 5.0
    assert results["H02"].status.value == "pass"


def test_the_time_limit_also_holds_outside_the_main_thread(case):
    """Dask runs tasks in threads, where SIGALRM is not available."""
    import threading

    from vetcore.runner import execute_check

    found = []
    worker = threading.Thread(
        target=lambda: found.append(execute_check(_check(_hang), _ctx(case, _check(_hang)), 0.5))
    )
    worker.start()
    worker.join(30)
    assert not worker.is_alive() and _status(found[0]) == ("error", ("TIME_LIMIT",))


def test_time_limit_is_a_validated_setting(tmp_path):
    from vetcore.config import Config

    assert Config.from_dict({"run": {"check_time_limit_s": 60}}).check_time_limit_s == 60.0
    with pytest.raises(
        vetcore.errors.ConfigError, match=r"run.check_time_limit_s: must be in \(0, inf\), got -1"
    ):
        Config.from_dict({"run": {"check_time_limit_s": -1}})


def test_report_finished_hooks_get_a_read_only_view(case, tmp_path):
    from vetcore import hookimpl
    from vetcore.plugins import PluginManager
    from vetcore.session import Session

    attempts = []

    class Vandal:
        @hookimpl
        def vetcore_report_finished(self, report):
            for attack in (
                lambda: report.aggregates.clear(),
                lambda: report.sectors[0].results.pop("V08"),
                lambda: setattr(report, "target", None),
                lambda: report.sectors.append(None),
                lambda: report.result("V08").metrics.clear(),
                lambda: report.sectors[0].stamp.flux.__setitem__(0, 0.0),
            ):
                try:
                    attack()
                    attempts.append("succeeded")
                except (AttributeError, TypeError, ValueError):
                    attempts.append("refused")
            attempts.append(report.to_dict()["target"]["id"])  # reading works

    pm = PluginManager(plugins=[("vandal", Vandal())])
    report = Session(checks=["V08", "V25"], plugin_manager=pm).run_target([case.stamp], case.ephemeris)
    assert attempts == ["refused"] * 6 + [case.stamp.target.id]
    assert list(report.sectors[0].results) == ["V08"] and list(report.aggregates) == ["V25"]
    assert report.result("V08").metrics  # untouched


@pytest.mark.parametrize(
    ("check_id", "key", "value", "expected"),
    [
        ("V08", "sigma_threshold", "nan", "must be a finite number in (0, 100], got nan"),
        ("V09", "sigma_threshold", "nan", "must be a finite number in (0, 100], got nan"),
        ("V09", "n_bootstrap", "-5", "must be in [0, 100000], got -5"),
        ("V09", "n_bootstrap", "1000000000", "must be in [0, 100000], got 1000000000"),
        ("V25", "sigma_threshold", "nan", "must be a finite number in [0.5, 20], got nan"),
    ],
)
def test_builtin_check_parameters_out_of_range_exit_2_before_any_data_is_read(
    tmp_path, capsys, check_id, key, value, expected
):
    from vetcore.cli import main

    config = tmp_path / "vetcore.toml"
    config.write_text(f"[checks.{check_id}]\n{key} = {value}\n")
    never_read = tmp_path / "not_there_tp.fits"
    argv = ["run", str(never_read), "--period", "2", "--t0", "1", "--duration", "2", "--config", str(config)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == f"vetcore: error: {config}: checks.{check_id}.{key}: {expected}"
