"""Terminal messages of the ``vetcore`` command through the standard :mod:`logging` module.

vetcore's own messages go to the ``vetcore`` logger; the command prints them
on standard error as ``vetcore: <message>`` (info), ``vetcore: warning: …``
and ``vetcore: debug: …``.  Python warnings raised by libraries (astropy's
``FITSFixedWarning``, lightkurve's import notes…) are captured into logging
(``py.warnings``) and shown only at ``debug`` level (``-v``), so that they never
come before the one-line error.  The level: ``--log-level`` if given, else
``debug`` with ``-v``, ``warning`` with ``--quiet``, else ``info``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LEVELS", "cli_logging", "level_for"]

#: Accepted ``--log-level`` values.
LEVELS = ("debug", "info", "warning", "error")

_PREFIX = {logging.DEBUG: "debug: ", logging.INFO: "", logging.WARNING: "warning: ", logging.ERROR: "error: "}


class _StderrHandler(logging.Handler):
    """Writes to the *current* ``sys.stderr`` (which tests and notebooks may swap)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name == "py.warnings":
                text = " ".join(str(record.getMessage()).strip().splitlines()[0].split())
                line = f"vetcore: debug: python warning: {text}"
            else:
                prefix = _PREFIX.get(record.levelno, f"{record.levelname.lower()}: ")
                line = f"vetcore: {prefix}{' '.join(record.getMessage().split())}"
            print(line, file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


def level_for(log_level: str | None, verbose: int, quiet: bool) -> int:
    """The logging level chosen by ``--log-level``, ``-v`` and ``--quiet`` (in that order)."""
    if log_level:
        return int(getattr(logging, log_level.upper()))
    if verbose:
        return logging.DEBUG
    return logging.WARNING if quiet else logging.INFO


@contextmanager
def cli_logging(level: int) -> Iterator[None]:
    """Route the ``vetcore`` logger and Python warnings to standard error for one command."""
    handler = _StderrHandler()
    ours = logging.getLogger("vetcore")
    warned = logging.getLogger("py.warnings")
    saved = (ours.level, ours.propagate, warned.level, warned.propagate, list(warned.handlers))
    ours.addHandler(handler)
    ours.setLevel(level)
    ours.propagate = False
    logging.captureWarnings(True)
    warned.handlers = [handler if level <= logging.DEBUG else logging.NullHandler()]
    warned.propagate = False
    warned.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        ours.removeHandler(handler)
        ours.level, ours.propagate = saved[0], saved[1]
        warned.level, warned.propagate, warned.handlers = saved[2], saved[3], saved[4]
