"""Locate the project's shared real data (``<repo>/../shared/data``) from tests.

Tests that need real pixel files call :func:`shared_data`; when the folder is
absent the test is skipped with the reason, except under ``CI=true`` where a
missing data folder is a failure (so CI never passes by skipping everything).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SHARED_DATA_ENV", "find_shared_data", "shared_data"]

#: Environment variable naming the shared data folder explicitly (overrides the search).
SHARED_DATA_ENV = "VETCORE_SHARED_DATA"


def _ancestors(start: Path) -> Iterator[Path]:
    start = start.resolve()
    yield start
    yield from start.parents


def find_shared_data() -> Path | None:
    """The shared data folder, or ``None`` when it cannot be found.

    ``$VETCORE_SHARED_DATA`` wins when set.  Otherwise the first ``shared/data``
    folder found beside a parent of the current directory, then beside a parent
    of this file (an editable install inside the repository), is used.
    """
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        path = Path(env).expanduser()
        return path if path.is_dir() else None
    for start in (Path.cwd(), Path(__file__).parent):
        for folder in _ancestors(start):
            candidate = folder / "shared" / "data"
            if candidate.is_dir():
                return candidate
    return None


def shared_data(relpath: str | os.PathLike[str] = "") -> Path:
    """Path of ``relpath`` inside the shared data folder; skip the test when it is absent.

    Under ``CI=true`` absence fails the test instead of skipping it.  Must be
    called from a test (or fixture): it uses :func:`pytest.skip` / :func:`pytest.fail`.
    """
    import pytest

    base = find_shared_data()
    if base is None:
        where = os.environ.get(SHARED_DATA_ENV) or "../shared/data beside the repository"
        reason = f"shared data folder ../shared/data not found: looked for {where}"
    else:
        path = base / relpath
        if path.exists():
            return path
        reason = f"shared data file not found: {path}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: real data is required)", pytrace=False)
    pytest.skip(reason)
