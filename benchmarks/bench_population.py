"""Injection–recovery on a population of realistic simulated targets: are V08/V09/V25 right and honest?

Run from the repository root (``nice`` it: it keeps the cores busy for a few minutes)::

    nice .venv/bin/python benchmarks/bench_population.py                 # 400 targets, seed 1, 2 processes
    nice .venv/bin/python benchmarks/bench_population.py -n 100 --seed 7 --workers 1
    nice .venv/bin/python benchmarks/bench_population.py --json population.json   # also write the numbers
    nice .venv/bin/python benchmarks/bench_population.py --neighbours    # with each case's star list

Each target is drawn by :func:`vetcore.testing.population.draw_case` (non-Gaussian,
asymmetric PSFs that change per sector, field stars, TESS 2/10/30-min and Kepler
long cadence, 1–4 sectors at random rolls, red pointing jitter, drift, momentum
dumps, imperfect background; half of the signals on a neighbour 0.3–3 px away),
vetted through :func:`vetcore.vet` with the installed checks, and scored by
:func:`vetcore.testing.recovery.summarise`.  Printed per method:

* false alarms: truth on target, verdict off_target or inconsistent (goal ≤ 1 %);
* dangerous misses: truth off target, verdict on_target (goal ≤ 1 %);
* detection efficiency of off-target signals by host separation and by SNR, and for
  hosts ≥ 0.7 px away with all-pixel SNR ≥ 15 (goal ≥ 90 %);
* coverage of the localization errors within 1σ/2σ/3σ (goal: 39.3/86.5/98.9 % ± 5 points);
* with ``--neighbours``: how often the named likely host is the true one;
* timings (generation, vetting, per check).

V08 and V09 are counted per stamp (with the stamp's own SNR), V25 and the report
disposition per target.  Each case depends only on ``(seed, index)``, so the
numbers do not depend on the number of worker processes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from vetcore.testing.population import draw_case
from vetcore.testing.recovery import COVERAGE_EXPECTED, SNR_BINS, summarise, vet_case

_STATE: dict[str, Any] = {}


def _run_one(job: tuple[int, int, bool, tuple[str, ...], str | None]) -> dict[str, Any]:
    """Draw and vet one case (in a worker process); only numbers travel back."""
    index, seed, neighbours, metrics, config = job
    warnings.simplefilter("ignore")
    if "pm" not in _STATE:
        from vetcore.plugins import PluginManager

        _STATE["pm"] = PluginManager()
    start = time.perf_counter()
    case = draw_case(index, seed)
    generate_s = time.perf_counter() - start
    record = vet_case(
        case, config=config, plugin_manager=_STATE["pm"], neighbours=neighbours, metrics=metrics
    )
    record["generate_s"] = generate_s
    return record


def run(
    n: int,
    seed: int,
    workers: int,
    neighbours: bool,
    metrics: tuple[str, ...] = (),
    config: str | None = None,
) -> Iterator[dict[str, Any]]:
    jobs = [(i, seed, neighbours, metrics, config) for i in range(n)]
    if workers <= 1:
        yield from map(_run_one, jobs)
        return
    import multiprocessing

    from vetcore.batch.executors import single_threaded_workers

    with (
        single_threaded_workers(),
        ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool,
    ):
        yield from pool.map(_run_one, jobs, chunksize=1)


def _pct(rate: Mapping[str, Any]) -> str:
    if not rate["n"]:
        return "   n/a    (0)"
    return f"{100 * rate['rate']:5.1f}±{100 * rate['err']:4.1f}% ({rate['k']}/{rate['n']})"


def _cell(rate: Mapping[str, Any]) -> str:
    return f"{100 * rate['rate']:.0f}% of {rate['n']}" if rate["n"] else "-"


def print_summary(summary: Mapping[str, Any]) -> None:
    exp = COVERAGE_EXPECTED
    print(
        f"\n{summary['n_targets']} targets ({summary['n_on_target']} on target, "
        f"{summary['n_off_target']} off, "
        f"{summary['n_host_outside_aperture']} with the host outside the aperture in every stamp), "
        f"{summary['n_errors']} run errors"
    )
    for method, m in summary["methods"].items():
        v = m["verdicts"]
        print(f"\n== {method} (per {m['unit']}, n={m['n']}: "
              + ", ".join(f"{k} {n}" for k, n in v.items()) + ")")  # fmt: skip
        print(f"  false alarms (on→off/inconsistent)   {_pct(m['false_alarm'])}    goal ≤ 1 %")
        print(f"  dangerous misses (off→on_target)     {_pct(m['dangerous_miss'])}    goal ≤ 1 %")
        print(f"  on-target recovered as on_target     {_pct(m['on_target_recovered'])}")
        print(f"  off-target detected (all)            {_pct(m['off_target_detected'])}")
        print(f"  off-target ≥0.7 px, SNR ≥15 detected {_pct(m['off_target_detected_sep_ge_0p7_snr_ge_15'])}"
              "    goal ≥ 90 %")  # fmt: skip
        print(f"  host outside aperture detected       {_pct(m['off_target_outside_aperture_detected'])}")
        for key, label, unit in (
            ("efficiency_by_separation_pix", "separation", "px"),
            ("efficiency_by_snr", "SNR", ""),
        ):
            cells = "  ".join(f"[{r['low']:g},{r['high']:g}){unit} {_pct(r)}" for r in m[key])
            print(f"  efficiency by {label:<10} {cells}")
        print("  off_target fraction, separation (rows) × SNR (columns):")
        print(" " * 17 + "".join(f"{f'SNR {lo:g}-{hi:g}':>14}" for lo, hi in itertools.pairwise(SNR_BINS)))
        for row in m["efficiency_grid"]:
            cells = "".join(f"{_cell(c):>14}" for c in row["by_snr"])
            label = f"{row['separation_low']:g}-{row['separation_high']:g} px"
            print(f"    {label:<13}{cells}")
        for key, label in (("all", "all named"), ("off_target_sep_ge_1", "off target, ≥1 px")):
            h = m["host_attribution"][key]
            if h["n"]:
                print(f"  likely host is the true host ({label:<17}) {_pct(h)}")
        c = m["coverage"]
        if c["n"]:
            cells = "  ".join(
                f"{k}σ {100 * c[f'{k}sigma']:5.1f}% (exp {100 * exp[k]:.1f})" for k in (1, 2, 3)
            )
            print(f"  coverage (n={c['n']})  {cells}")


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--targets", type=int, default=400, help="number of targets (default 400)")
    parser.add_argument("--seed", type=int, default=1, help="population seed (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--neighbours", action="store_true", help="give V25 each case's star list as its catalog"
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write the numbers (and per-target records) as JSON"
    )
    parser.add_argument(
        "--metrics",
        metavar="NAMES",
        default="",
        help="comma-separated check metrics to copy into the JSON records (e.g. covariance_source)",
    )
    parser.add_argument(
        "--config", metavar="TOML", help="vetcore config file for every run (check parameters)"
    )
    args = parser.parse_args(argv)
    if args.targets < 1 or args.workers < 1:
        print("bench_population: --targets and --workers must be at least 1", file=sys.stderr)
        return 2

    metrics = tuple(name.strip() for name in args.metrics.split(",") if name.strip())
    commit = _commit()  # the code under test is the one installed when the run starts
    start = time.perf_counter()
    records = []
    cases = run(args.targets, args.seed, args.workers, args.neighbours, metrics, args.config)
    for i, record in enumerate(cases, 1):
        records.append(record)
        if i % 50 == 0 or i == args.targets:
            print(f"  {i}/{args.targets} targets, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    wall = time.perf_counter() - start
    summary = summarise(records)
    gen = sum(r.get("generate_s", 0.0) for r in records)
    vet = sum(r["vet_s"] for r in records)
    checks: dict[str, float] = {}
    for r in records:
        for cid, s in r["check_s"].items():
            checks[cid] = checks.get(cid, 0.0) + s
    n_stamps = sum(r["n_sectors"] for r in records)
    summary["timings"] = {
        "wall_s": wall,
        "workers": args.workers,
        "generate_s_per_target": gen / len(records),
        "vet_s_per_target": vet / len(records),
        "check_s_per_stamp": {cid: s / n_stamps for cid, s in checks.items() if cid != "V25"},
        "V25_s_per_target": checks.get("V25", 0.0) / len(records),
    }
    summary["seed"], summary["commit"], summary["neighbours"] = args.seed, commit, args.neighbours
    summary["config"] = args.config
    print(f"population seed {args.seed}, commit {summary['commit']}, {n_stamps} stamps")
    print_summary(summary)
    t = summary["timings"]
    print(
        f"\ntimings: {wall:.0f} s wall on {args.workers} process(es); per target: generate "
        f"{t['generate_s_per_target']:.2f} s, vet {t['vet_s_per_target']:.2f} s; per stamp: "
        + ", ".join(f"{cid} {1e3 * s:.0f} ms" for cid, s in t["check_s_per_stamp"].items())
        + f"; V25 {1e3 * t['V25_s_per_target']:.1f} ms per target"
    )
    for r in records:
        if r.get("error"):
            print(f"  run error on case {r['index']}: {r['error']}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"summary": summary, "records": records}, indent=1, default=float)
        )
        print(f"numbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
