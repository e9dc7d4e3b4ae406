"""``vetcore run``: vet one candidate from pixel data and write its report."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from vetcore.cli.verdict_options import FAIL_ON_EXIT, add_verdict_options, failing

__all__ = ["add_parser", "add_report_options", "run"]

EXAMPLES = """\
examples:
  vetcore run s82_tp.fits s83_tp.fits --period 14.2423724 --t0 3540.26317 --duration 4.046
  vetcore run "TIC 188646744" --sectors 82,83 --period 14.2423724 --t0 3540.26317 --duration 4.046 \\
      --checks V08,V09,V25 --format json,html --out out/

  vetcore run kplr005562784-2011271113734_lpd-targ.fits.gz --period 25.3368592 --t0 192.91552 \\
      --duration 8.85 --neighbours stars.csv --fail-on off_target,inconsistent

t0 is in the data's time system (BTJD for TESS, BKJD for Kepler) or a full BJD (> 2400000).
The last line printed is the target's disposition (on_target, off_target, inconclusive or
inconsistent) with its reason.  Exit status: 0 done, 2 bad input or options, 3 the disposition
is one of --fail-on, 1 internal error.
"""


def add_report_options(group: Any) -> None:
    """Add ``--force`` and ``--pixel-axes``, shared by ``vetcore run`` and ``vetcore demo``."""
    group.add_argument(
        "--force", action="store_true", help="replace another target's report already in --out"
    )
    group.add_argument(
        "--pixel-axes",
        choices=("stamp", "ccd"),
        default="stamp",
        metavar="AXES",
        help="label pixel images in stamp pixels (default) or CCD column/row (stamp, ccd)",
    )


def _number(kind: str, positive: bool = False) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if positive and not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind}, got {text!r}")
        return value

    return parse


def _names(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return names


def _sectors(text: str) -> list[int]:
    try:
        return [int(t) for t in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sector numbers, got {text!r}") from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "run",
        help="vet one candidate and write its report",
        description="Run the selected checks on one target's pixel data (one or more sectors), "
        "write the report and print a status table.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="pixel data: TPF or TESScut FITS, .npz, folders, globs or a target name ('TIC 188646744')",
    )
    eph = p.add_argument_group("candidate")
    eph.add_argument(
        "--period", required=True, type=_number("days", True), metavar="DAYS", help="orbital period"
    )
    eph.add_argument(
        "--t0",
        required=True,
        type=_number("a time"),
        metavar="TIME",
        help="mid-transit epoch: BTJD/BKJD or full BJD",
    )
    eph.add_argument(
        "--duration",
        required=True,
        type=_number("hours", True),
        metavar="HOURS",
        help="total transit duration in hours",
    )
    eph.add_argument("--depth", type=_number("ppm", True), metavar="PPM", help="transit depth in ppm")
    tgt = p.add_argument_group("target (overrides what the data says)")
    tgt.add_argument("--target", metavar="NAME", help="target name")
    tgt.add_argument("--ra", type=_number("degrees"), metavar="DEG", help="target right ascension (ICRS)")
    tgt.add_argument("--dec", type=_number("degrees"), metavar="DEG", help="target declination (ICRS)")
    sel = p.add_argument_group("selection")
    sel.add_argument(
        "--config", metavar="FILE", help="TOML configuration (default: ./vetcore.toml if present)"
    )
    sel.add_argument(
        "--checks",
        type=_names,
        metavar="LIST",
        help="checks to run: ids, globs or plugin:NAME, comma-separated (replaces [select])",
    )
    sel.add_argument(
        "--sectors", type=_sectors, metavar="LIST", help="only these sectors/quarters, e.g. 82,83"
    )
    out = p.add_argument_group("data and output")
    out.add_argument(
        "--format", type=_names, metavar="LIST", help="report formats, e.g. json,html (default: json)"
    )
    out.add_argument(
        "--out", default="vetcore-out", metavar="DIR", help="output folder (default: ./vetcore-out)"
    )
    add_report_options(out)
    out.add_argument(
        "--offline", action="store_true", default=None, help="never download; use files and cache"
    )
    out.add_argument("--cache-dir", metavar="DIR", help="download cache folder")
    out.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_verdict_options(p.add_argument_group("verdicts"))
    return p


def _status_rows(report: Any) -> list[list[str]]:
    from vetcore.progress import printable

    rows = []
    for label, result in report.results():
        message = printable(result.message)
        rows.append(
            [
                result.check,
                label or "all",
                result.status.value,
                message[:77] + "..." if len(message) > 80 else message,
            ]
        )
    return rows


def run(args: argparse.Namespace) -> int:
    from vetcore.api import vet
    from vetcore.cli import make_session
    from vetcore.config import load_config
    from vetcore.errors import ConfigError, VetcoreError
    from vetcore.io import check_output_folder
    from vetcore.plotting import pixel_axes
    from vetcore.progress import StreamProgress, printable

    if (args.ra is None) != (args.dec is None):
        raise ConfigError("--ra and --dec must be given together")
    check_output_folder(args.out)
    config = load_config(args.config)
    if args.format:
        config = config.replace(formats=tuple(args.format))
    if args.offline is not None:
        config = config.replace(offline=bool(args.offline))
    if args.cache_dir is not None:
        config = config.replace(cache_dir=str(args.cache_dir))
    formats = list(config.formats or ("json",))
    session = make_session(args, config, args.checks, formats=formats, quiet=args.quiet)

    report = vet(
        args.sources,
        period=args.period,
        t0=args.t0,
        duration=args.duration,
        depth=args.depth,
        target=args.target,
        ra=args.ra,
        dec=args.dec,
        sectors=args.sectors,
        session=session,
        progress=None if args.quiet else StreamProgress(),
        neighbours=args.neighbours,
    )
    try:
        with pixel_axes(args.pixel_axes):
            paths = session.render(report, args.out, formats, force=args.force)
    except OSError as exc:
        raise VetcoreError(f"cannot write the report to {args.out}: {exc.strerror or exc}") from None
    if not args.quiet:
        for plugin, hook, error in session.plugin_manager.event_errors:
            warning = printable(f"plugin {plugin} failed in {hook}: {error}")
            print(f"vetcore: warning: {warning}", file=sys.stderr)
    print_summary(report, paths)
    return FAIL_ON_EXIT if failing([report.disposition.verdict], args.fail_on) else 0


def print_summary(report: Any, paths: list[Any]) -> None:
    """The one-screen terminal summary: statuses per check and sector, the files written, and
    last the target's disposition."""
    from vetcore.cli import table
    from vetcore.progress import printable

    print(f"{printable(report.target.id)}: {len(report.sectors)} sector(s), {len(report.checks)} check(s)")
    print(table(_status_rows(report), ["check", "sector", "status", "message"]))
    for path in paths:
        print(f"wrote {printable(path)}")
    print(printable(disposition_line(report)))


def disposition_line(report: Any) -> str:
    """``disposition: on_target (likely host: target; 3σ confusion radius 13.7″) — reason``."""
    d = report.disposition
    details = []
    if d.likely_host:
        details.append(f"likely host: {d.likely_host}")
    if d.confusion_radius_arcsec is not None:
        details.append(f"3σ confusion radius {d.confusion_radius_arcsec:.1f}″")
    extra = f" ({'; '.join(details)})" if details else ""
    return f"disposition: {d.verdict}{extra} — {' '.join(d.reason.split())}"
