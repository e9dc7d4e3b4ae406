"""Start-up cost of ``vetcore run``: V08 + V09 on the embedded TOI-5807 S83 stamp, end to end,
against a bare Python process that imports what the science needs and reads the same stamp.

Both run as fresh processes, interleaved, ``--repeat`` times each; the script prints the median
wall time of each and their ratio (the target is at most 1.25)::

    nice python benchmarks/bench_startup.py --repeat 7

The baseline imports numpy, astropy.io.fits, astropy.wcs and scipy.optimize, reads every array of
the stamp (the WCS header with numpy's own unpickler: the file ships inside vetcore) and builds its
WCS.  ``vetcore run`` does that plus plugin discovery, configuration, both checks, the report and
``report.json``.  ``--profile`` prints the modules ``vetcore run`` imports beyond the baseline.

Before timing, the bytecode of vetcore and of every ``vetcore`` entry-point package is written (as
pip does when it installs a wheel): numpy, astropy and scipy load theirs from site-packages, and an
editable install run with ``PYTHONDONTWRITEBYTECODE`` set would otherwise recompile vetcore's
sources in every process.  V09 imports scipy.optimize where it fits (the baseline imports it up
front), so its time in ``report.json`` includes that import.  A third run of ``vetcore run``, with
scipy.optimize imported before it starts, gives the checks' own computation (their times in its
``report.json``); a fourth process times the import alone after numpy and astropy (inside
``vetcore run`` it costs more, partly because the garbage collector traverses a larger heap).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata, util
from importlib.resources import files
from pathlib import Path

STAMP = Path(str(files("vetcore.demo").joinpath("data", "toi5807_tic188646744_s83.npz")))
CANDIDATE = ["--period", "14.2423724", "--t0", "3540.26317", "--duration", "4.046"]
TARGET = ["--ra", "308.5672083", "--dec", "43.3606889", "--target", "TIC 188646744"]

BASELINE = f"""
import warnings
import numpy as np, astropy.io.fits, astropy.wcs, scipy.optimize
warnings.simplefilter("ignore", astropy.wcs.FITSFixedWarning)
with np.load({str(STAMP)!r}, allow_pickle=True) as data:
    arrays = {{name: data[name] for name in data.files}}
header = astropy.io.fits.Header(arrays.pop("wcs_header").item())
wcs = astropy.wcs.WCS(header)
assert arrays["flux"].ndim == 3 and wcs.has_celestial
"""

#: The time to import scipy.optimize once numpy and astropy are loaded (printed on stdout).
SCIPY_IMPORT = """
import time, numpy, astropy.io.fits, astropy.wcs
start = time.perf_counter()
import scipy.optimize
print(time.perf_counter() - start)
"""


#: ``vetcore run`` with scipy.optimize imported first (arguments follow ``-c``).
PREIMPORTED = """
import runpy, sys, scipy.optimize
sys.argv = ["vetcore", *sys.argv[1:]]
runpy.run_module("vetcore.cli", run_name="__main__")
"""


def compile_bytecode() -> None:
    """Write the bytecode of vetcore and of the packages of its ``vetcore`` entry points."""
    packages = {"vetcore"} | {
        ep.value.split(":")[0].split(".")[0] for ep in metadata.entry_points(group="vetcore")
    }
    for name in sorted(packages):
        spec = util.find_spec(name)
        for location in (spec.submodule_search_locations or ()) if spec else ():
            compileall.compile_dir(location, quiet=1)


def vetcore_command(out: Path, preimported: bool = False) -> list[str]:
    start = ["-c", PREIMPORTED] if preimported else ["-m", "vetcore.cli"]
    return [sys.executable, *start, "run", str(STAMP), *CANDIDATE, *TARGET,
            "--checks", "V08,V09", "--quiet", "--out", str(out)]  # fmt: skip


def check_times(out: Path) -> dict[str, float]:
    """Seconds spent in each check, from ``report.json`` in ``out``."""
    return dict(json.loads((out / "report.json").read_text())["timings"]["checks_s"])


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run of ``command``."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def imported_modules(command: list[str]) -> dict[str, float]:
    """Every module a command imports, with its own import time (s, children excluded)."""
    proc = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], check=True, capture_output=True, text=True
    )
    times: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            own, _, name = line.split(":", 1)[1].split("|")
            times[name.strip()] = int(own) / 1e6
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command (default 7)")
    parser.add_argument("--profile", action="store_true", help="list imports beyond the baseline")
    args = parser.parse_args()
    baseline = [sys.executable, "-c", BASELINE]
    scipy_import = [sys.executable, "-c", SCIPY_IMPORT]
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as tmp_pre:
        command = vetcore_command(Path(tmp))
        preimported = vetcore_command(Path(tmp_pre), preimported=True)
        timed(baseline), timed(command)  # warm the file cache
        bare, full, bare_cpu, full_cpu, checks, own_checks, scipy_s = [], [], [], [], [], [], []
        for _ in range(args.repeat):
            for wall, cpu, cmd in ((bare, bare_cpu, baseline), (full, full_cpu, command)):
                seconds = timed(cmd)
                wall.append(seconds[0])
                cpu.append(seconds[1])
            checks.append(check_times(Path(tmp)))
            subprocess.run(preimported, check=True, stdout=subprocess.DEVNULL)
            own_checks.append(check_times(Path(tmp_pre)))
            out = subprocess.run(scipy_import, check=True, capture_output=True, text=True).stdout
            scipy_s.append(float(out))
        if args.profile:
            base_mods, run_mods = imported_modules(baseline), imported_modules(command)
            by_package: dict[str, float] = {}
            for module, seconds in run_mods.items():
                if module not in base_mods:
                    package = ".".join(module.split(".")[:2])
                    by_package[package] = by_package.get(package, 0.0) + seconds
            print(f"imported by vetcore run beyond the baseline: {sum(by_package.values()):.3f} s; largest:")
            for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:20]:
                print(f"  {package:30s} {seconds:6.3f}")
    b, v = statistics.median(bare), statistics.median(full)
    print(f"bare python (numpy, astropy.io.fits, astropy.wcs, scipy.optimize; read stamp): {b:.3f} s")
    print(f"vetcore run V08+V09 on TOI-5807 S83 (report.json written):                  {v:.3f} s")
    print(f"ratio: {v / b:.2f}x  (target <= 1.25x; medians of {args.repeat} interleaved runs)")
    bc, vc = statistics.median(bare_cpu), statistics.median(full_cpu)
    load = os.getloadavg()[0]
    print(f"CPU time (user + system, all threads incl. BLAS workers): bare {bc:.3f} s, vetcore run "
          f"{vc:.3f} s, ratio {vc / bc:.2f}x; load average now {load:.1f}")  # fmt: skip
    s = statistics.median(scipy_s)
    each = ", ".join(f"{k} {statistics.median(c[k] for c in checks):.3f}" for k in checks[0])
    print(f"time in each check (medians, from report.json): {each} s")
    inside = statistics.median(c["V09"] - o["V09"] for c, o in zip(checks, own_checks, strict=True))
    print(f"  of which importing scipy.optimize (in V09; the baseline pays it too): {inside:.3f} s "
          f"(alone after numpy and astropy: {s:.3f} s)")  # fmt: skip
    own = [sum(c.values()) for c in own_checks]
    rest = statistics.median(t - o for t, o in zip(full, own, strict=True))
    print(f"the checks' own computation (a run with scipy.optimize imported first): "
          f"{statistics.median(own):.3f} s; vetcore run without it: {rest:.3f} s, ratio "
          f"{rest / b:.2f}x (start-up, imports, loading, report)")  # fmt: skip


if __name__ == "__main__":
    main()
