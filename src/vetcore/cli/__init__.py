"""The ``vetcore`` command: one module per sub-command.

Each module listed in :data:`COMMANDS` exposes ``add_parser(subparsers)``
(returning its :class:`argparse.ArgumentParser`) and ``run(args) -> int``;
adding a command is adding its module here.  Command modules import heavy
libraries only inside ``run`` so that ``vetcore --help`` stays fast.

Exit codes (:data:`EXIT_CODES`, also listed by ``vetcore --help``): 0 success
(whatever the verdicts), 2 bad usage, configuration or input
(:class:`~vetcore.errors.VetcoreError`, one line on stderr), 3 a target's
disposition is among ``--fail-on`` (``run``/``batch``), 4 ``batch`` finished but
some rows failed, 1 internal error (one line; ``--debug`` shows the traceback),
130 interrupted.  Messages go through :mod:`logging` (see
:mod:`vetcore.cli.log`): ``-v`` for debug detail, ``--log-level`` to choose.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vetcore import __version__
from vetcore.cli.log import LEVELS, cli_logging, level_for
from vetcore.errors import VetcoreError
from vetcore.progress import printable

if TYPE_CHECKING:  # pragma: no cover
    from vetcore.config import Config
    from vetcore.plugins import PluginManager
    from vetcore.session import Session

__all__ = [
    "COMMANDS",
    "EXIT_CODES",
    "build_parser",
    "command",
    "main",
    "make_plugin_manager",
    "make_session",
    "table",
]

#: Exit codes of the ``vetcore`` command, shown in ``--help``.
EXIT_CODES: dict[int, str] = {
    0: "success (whatever the verdicts)",
    1: "internal error (one line; --debug shows the traceback)",
    2: "bad usage, configuration or input (one line naming the file, option or field)",
    3: "run/batch: a target's disposition is one of --fail-on (e.g. off_target)",
    4: "batch: finished, but one or more rows failed (see the summary's errors column)",
    130: "interrupted",
}
BATCH_ROWS_FAILED = 4

logger = logging.getLogger("vetcore")

COMMANDS: list[str] = [
    "vetcore.cli.run",
    "vetcore.cli.checks",
    "vetcore.cli.plugins",
    "vetcore.cli.demo",
    "vetcore.cli.new_plugin",
    "vetcore.cli.batch",
]


def _add_common(parser: argparse.ArgumentParser, top: bool) -> None:
    """Options accepted both before and after the command name."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show tracebacks of errors",
    )
    parser.add_argument(
        "--disable-plugin",
        action="append",
        metavar="NAME",
        dest="disable_plugin" if top else "disable_plugin_cmd",
        default=[] if top else argparse.SUPPRESS,
        help="do not load this plugin (repeatable)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        dest="verbose" if top else "verbose_cmd",
        help="more detail on stderr (debug messages, library warnings)",
    )
    parser.add_argument(
        "--log-level",
        choices=LEVELS,
        metavar="LEVEL",
        default=None if top else argparse.SUPPRESS,
        dest="log_level" if top else "log_level_cmd",
        help=f"messages shown on stderr: {', '.join(LEVELS)} (default: info; warning with --quiet)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="vetcore",
        description="Pixel-level vetting of transiting-planet candidates (TESS, Kepler): "
        "is the transit on the target star?",
        epilog="Run 'vetcore COMMAND --help' for the options of a command.\n\nexit codes:\n"
        + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vetcore {__version__}")
    _add_common(parser, top=True)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command", required=True)
    for name in COMMANDS:
        module = importlib.import_module(name)
        sub = module.add_parser(subparsers)
        _add_common(sub, top=False)
        sub.set_defaults(_run=module.run)
    return parser


def make_plugin_manager(args: argparse.Namespace, config: Config | None = None) -> PluginManager:
    """A plugin manager honouring ``--disable-plugin`` and ``[plugins] disable``."""
    from vetcore.plugins import PluginManager

    disabled = list(args.disable_plugin) + list(config.disable_plugins if config is not None else ())
    return PluginManager(disabled=disabled)


def make_session(
    args: argparse.Namespace,
    config: Config,
    checks: Sequence[str] | None = None,
    *,
    formats: Sequence[str] = (),
    quiet: bool = False,
) -> Session:
    """The run's :class:`~vetcore.session.Session`, after checking that every output format has a
    renderer; warns on standard error about plugins that failed to load unless ``quiet``.
    Validates the whole configuration (checks, parameters and their ranges) before any data is read."""
    from vetcore.session import Session

    pm = make_plugin_manager(args, config)
    for name in formats:
        pm.get_renderer(name)
    if not quiet:
        for record in pm.load_errors:
            warning = printable(f"plugin {record.name} not loaded: {record.error}")
            print(f"vetcore: warning: {warning}", file=sys.stderr)
    session = Session(config, checks=checks, plugin_manager=pm)
    announce_config(config)
    return session


def announce_config(config: Config) -> None:
    """Say which configuration file is in use (info level), once it has been validated."""
    if config.source:
        logger.info(f"config: {os.path.abspath(config.source)}")


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """Plain-text table with left-aligned columns (cells made terminal-safe)."""
    cells = [[printable(h) for h in headers]] + [
        ["" if c is None else printable(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _error(message: str) -> None:
    print(f"vetcore: error: {printable(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vetcore`` command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    return _main(argv, freeze=False)


def command() -> int:
    """The ``vetcore`` console command (and ``python -m vetcore.cli``): :func:`main` in a process of
    its own.

    Once the command line is parsed, what start-up created lives until the process exits, so it
    is moved out of the cyclic collector's sight (:func:`gc.freeze`); otherwise every collection
    that the later imports (astropy, scipy) trigger rescans it, about 0.1 s of a single run.
    """
    return _main(None, freeze=True)


def _main(argv: Sequence[str] | None, *, freeze: bool) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    args.disable_plugin = list(args.disable_plugin) + list(getattr(args, "disable_plugin_cmd", []))
    args.verbose = args.verbose + getattr(args, "verbose_cmd", 0)
    args.log_level = getattr(args, "log_level_cmd", None) or args.log_level
    level = level_for(args.log_level, args.verbose, bool(getattr(args, "quiet", False)))
    if freeze:
        gc.freeze()
    with cli_logging(level):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args._run(args))
    except VetcoreError as exc:
        if args.debug:
            traceback.print_exc()
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        print("vetcore: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
            _error(f"internal error: {type(exc).__name__}: {exc}")
        else:
            _error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return 1
