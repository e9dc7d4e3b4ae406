"""Exceptions that the CLI turns into a one-line message and exit code 2.

Everything a user can get wrong (a file, a config key, an option) raises a
:class:`VetcoreError` subclass whose message names the culprit.  Anything else
that escapes is an internal failure (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ConfigError", "DataError", "PluginError", "VetcoreError", "did_you_mean"]


class VetcoreError(Exception):
    """Base class for user-facing errors (bad input, config or usage)."""


class DataError(VetcoreError):
    """A data source cannot be read or is not usable.

    The message always starts with the file or identifier concerned.
    """

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class ConfigError(VetcoreError):
    """A configuration file, key, value or option is invalid."""


class PluginError(VetcoreError):
    """A plugin is broken in a way that stops the run (e.g. duplicate check ids)."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest candidate (case-insensitive), or ``""`` if none is close."""
    import difflib

    folded = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=0.6)
    return f"; did you mean {folded[close[0]]!r}?" if close else ""
