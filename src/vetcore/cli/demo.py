"""``vetcore demo``: run every installed check on embedded real TESS/Kepler pixels."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vetcore.cli.run import add_report_options


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="run the checks on embedded real data (TOI-5807, KOI-608)",
        description="Run every installed check on real pixel data shipped with vetcore and write the "
        "report (JSON, HTML, PNG, CSV) into --out.",
    )
    p.add_argument(
        "--case", default="toi5807", metavar="NAME", help="which embedded case (see --list; default toi5807)"
    )
    p.add_argument("--list", action="store_true", help="list the embedded cases and exit")
    p.add_argument(
        "--out", default="vetcore-demo", metavar="DIR", help="output folder (default: ./vetcore-demo)"
    )
    add_report_options(p)
    p.add_argument(
        "--format",
        default="json,html,png,csv",
        metavar="LIST",
        help="report formats (default: json,html,png,csv)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def run(args: argparse.Namespace) -> int:
    from vetcore.cli import make_session, table
    from vetcore.cli.run import print_summary
    from vetcore.config import load_config
    from vetcore.demo import CASES, run_case
    from vetcore.errors import ConfigError
    from vetcore.plotting import pixel_axes
    from vetcore.progress import StreamProgress

    if args.list:
        print(table([[c.name, c.title, c.note] for c in CASES.values()], ["case", "data", "what to expect"]))
        return 0
    if args.case not in CASES:
        raise ConfigError(f"--case: unknown demo case {args.case!r} (have: {', '.join(CASES)})")
    case = CASES[args.case]
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    session = make_session(args, load_config(None), formats=formats, quiet=args.quiet)
    if not args.quiet:
        print(f"vetcore demo: {case.title}", file=sys.stderr)
    report = run_case(case, session=session, progress=None if args.quiet else StreamProgress())
    with pixel_axes(args.pixel_axes):
        paths = session.render(report, args.out, formats, force=args.force)
    print_summary(report, paths)
    return 0
