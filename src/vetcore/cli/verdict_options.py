"""The options ``vetcore run`` and ``vetcore batch`` share about verdicts: ``--neighbours`` and ``--fail-on``.

``--fail-on off_target[,inconsistent]`` makes the command exit with
:data:`FAIL_ON_EXIT` (3) when a target's disposition is among those verdicts,
after every report has been written; without it the exit code does not depend
on the verdicts.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

__all__ = ["FAIL_ON_EXIT", "add_verdict_options", "fail_on", "failing"]

#: Exit code when a disposition matches ``--fail-on``.
FAIL_ON_EXIT = 3


def fail_on(text: str) -> tuple[str, ...]:
    """Parse ``--fail-on``: comma-separated verdicts (on_target, off_target, inconclusive, inconsistent)."""
    from vetcore.verdicts import VERDICTS

    names = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [n for n in names if n not in VERDICTS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated verdicts from {', '.join(VERDICTS)}, got {text!r}"
        )
    return names


def add_verdict_options(group: Any) -> None:
    """Add ``--neighbours`` and ``--fail-on`` to an argparse parser or argument group."""
    group.add_argument(
        "--neighbours",
        metavar="FILE|tic",
        help="stars around the target for host attribution: a CSV/ECSV table with columns id, ra, dec (deg), "
        "mag (Gaia G or TESS mag), or 'tic' for the TESS Input Catalog via astroquery (cached; --offline "
        "uses the cache). Default: none; verdicts then rest on the confusion radius alone",
    )
    group.add_argument(
        "--fail-on",
        type=fail_on,
        metavar="VERDICTS",
        help="exit with status 3 when a target's disposition is one of these, e.g. off_target,inconsistent "
        "(default: exit status independent of the verdicts)",
    )


def failing(dispositions: Iterable[str], wanted: Iterable[str] | None) -> bool:
    """Whether any of ``dispositions`` is in ``wanted`` (``--fail-on``; ``None``: never)."""
    return bool(wanted) and any(d in set(wanted or ()) for d in dispositions)
