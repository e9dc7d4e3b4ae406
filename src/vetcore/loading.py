"""From user sources to stamps: expand folders and globs, pick a loader, load.

Each source goes to the first loader (highest ``priority``) whose ``accepts``
says yes.  Folders are searched recursively for files any loader accepts and
globs are expanded; a source nobody accepts, a folder with nothing loadable,
or a loader failure becomes a one-line :class:`~vetcore.errors.DataError`
naming the source.
"""

from __future__ import annotations

import glob
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vetcore.errors import ConfigError, DataError
from vetcore.model import Loader, LoadOptions, Stamp

__all__ = ["expand", "group_by_target", "load_sources", "load_stamps", "pick_loader"]

_GLOB_CHARS = set("*?[")


def pick_loader(source: Any, loaders: Sequence[Loader]) -> Loader | None:
    """The highest-priority loader accepting ``source`` (``loaders`` are sorted)."""
    for loader in sorted(loaders, key=lambda ld: -ld.priority):
        if loader.accepts(source):
            return loader
    return None


def expand(source: Any, loaders: Sequence[Loader]) -> list[Any]:
    """Folders → the loadable files inside them; globs → matching paths; others unchanged."""
    if not isinstance(source, (str, os.PathLike)):
        return [source]
    text = os.fspath(source)
    path = Path(text).expanduser()
    if path.is_dir():
        files = [str(p) for p in sorted(path.rglob("*")) if p.is_file() and pick_loader(str(p), loaders)]
        if not files:
            raise DataError(text, "folder holds no file that a loader accepts (TPF FITS, TESScut, .npz)")
        return files
    if _GLOB_CHARS & set(text) and not path.exists():
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            raise DataError(text, "no file matches this pattern")
        return [item for match in matches for item in expand(match, loaders)]
    return [text]


def load_sources(sources: Iterable[Any], options: LoadOptions, loaders: Sequence[Loader]) -> list[Stamp]:
    """Stamps from every source, in order (:func:`load_stamps` applies ``options.sectors``)."""
    stamps: list[Stamp] = []
    for source in sources:
        for item in expand(source, loaders):
            loader = pick_loader(item, loaders)
            if loader is None:
                raise DataError(item, _unknown(item, loaders))
            try:
                loaded = loader.load(item, options)
            except DataError:
                raise
            except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
                raise DataError(item, f"{loader.name} loader failed ({type(exc).__name__}: {exc})") from None
            stamps.extend(loaded)
    return stamps


def load_stamps(sources: Any, options: LoadOptions, loaders: Sequence[Loader]) -> list[Stamp]:
    """Stamps (one per sector) from one source or a list, sorted by mission and sector.

    :class:`Stamp` instances pass through; every other source goes to the
    accepting loader of highest priority.  Stamps outside ``options.sectors``
    are dropped; none left is a :class:`DataError` listing what there was.
    """
    items = list(sources) if isinstance(sources, (list, tuple)) else [sources]
    if not items:
        raise ConfigError("no data sources given")
    stamps = [s for s in items if isinstance(s, Stamp)]
    others = [s for s in items if not isinstance(s, Stamp)]
    if others:
        stamps.extend(load_sources(others, options, loaders))
    if options.sectors is not None:
        have = ", ".join(sorted({s.label for s in stamps})) or "none"
        stamps = [s for s in stamps if s.sector in set(options.sectors)]
        if not stamps:
            wanted = ", ".join(map(str, options.sectors))
            raise DataError(", ".join(map(str, items)), f"no data for sectors {wanted} (have: {have})")
    return sorted(stamps, key=lambda s: (s.mission, s.sector))


def _unknown(item: Any, loaders: Sequence[Loader]) -> str:
    if isinstance(item, (str, os.PathLike)):
        path = Path(item)
        if not path.exists() and not path.suffix:
            return "no such file, and not a target identifier such as 'TIC 188646744' or 'KIC 5562784'"
        if not path.exists():
            return "no such file"
        kinds = "; ".join(f"{ld.name}: {ld.summary}" for ld in loaders if ld.summary)
        return f"unknown file type {''.join(path.suffixes) or '(no suffix)'!r} (loaders: {kinds})"
    return f"no loader accepts a {type(item).__name__} object"


def group_by_target(stamps: Iterable[Stamp]) -> dict[str, list[Stamp]]:
    """Stamps grouped by target id, each group sorted by mission and sector."""
    groups: dict[str, list[Stamp]] = defaultdict(list)
    for stamp in stamps:
        groups[stamp.target.id].append(stamp)
    return {k: sorted(v, key=lambda s: (s.mission, s.sector)) for k, v in groups.items()}
