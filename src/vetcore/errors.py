"""Exceptions that the CLI turns into a one-line message and exit code 2.

Everything a user can get wrong (a file, a config key, an option) raises a
:class:`VetcoreError` subclass whose message names the culprit.  Anything else
that escapes is an internal failure (exit 1).
"""

from __future__ import annotations


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
