"""Target identifiers (``TIC 188646744``, ``KIC 5562784``, ``EPIC 201367065``) from MAST.

Files are searched and downloaded with lightkurve into a cache folder
(:func:`default_cache_dir`, or ``cache_dir`` / ``--cache-dir``), then read by the
FITS loader.  Cached files are found by their archive names, so a second run —
and any run with ``offline`` — touches no network.  Offline with nothing cached
is a clear error.  The network side is one small object (:class:`Downloader`)
that tests replace with a fake.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from vetcore.errors import DataError
from vetcore.loaders import tpf_fits
from vetcore.mission import MISSIONS
from vetcore.model import LoadOptions, Stamp

__all__ = [
    "Downloader",
    "LightkurveDownloader",
    "accepts",
    "cached_files",
    "default_cache_dir",
    "load",
    "parse",
]

_ID = re.compile(r"^\s*(TIC|KIC|EPIC)[\s_-]*(\d+)\s*$", re.IGNORECASE)
_MISSION = {m.catalogue: m.name for m in MISSIONS.values()}
#: Archive file-name patterns of target pixel files, by identifier kind.
_PATTERNS = {
    "TIC": ("tess*-s{sector}-{id:016d}-*_tp.fits*", r"-s0*(\d+)-"),
    "KIC": ("kplr{id:09d}-*_lpd-targ.fits*", None),
    "EPIC": ("ktwo{id:09d}-c{sector}_lpd-targ.fits*", r"-c0*(\d+)_"),
}


class Downloader(Protocol):
    """Finds and downloads target pixel files; returns local paths."""

    def fetch(
        self, mission: str, identifier: str, sectors: Sequence[int] | None, cache_dir: Path
    ) -> list[Path]:
        """Download the TPFs of ``identifier`` (all sectors if None) under ``cache_dir``."""
        ...


class LightkurveDownloader:
    """The default :class:`Downloader`: ``lightkurve.search_targetpixelfile`` + ``download_all``."""

    def fetch(
        self, mission: str, identifier: str, sectors: Sequence[int] | None, cache_dir: Path
    ) -> list[Path]:
        import lightkurve as lk

        key = MISSIONS[mission].period_word
        kwargs: dict[str, Any] = {"mission": mission}
        if sectors:
            kwargs[key] = list(sectors)
        if mission == "TESS":
            kwargs["author"] = "SPOC"
        result = lk.search_targetpixelfile(identifier, **kwargs)
        if len(result) == 0:
            return []
        files = result.download_all(download_dir=str(cache_dir), quality_bitmask="none")
        return [Path(tpf.path) for tpf in (files or [])]


def default_cache_dir() -> Path:
    """``$VETCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/vetcore``, else ``~/.cache/vetcore``."""
    if os.environ.get("VETCORE_CACHE_DIR"):
        return Path(os.environ["VETCORE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "vetcore"


def parse(source: str) -> tuple[str, int]:
    """``("TIC", 188646744)`` from ``"TIC 188646744"``; ValueError otherwise."""
    match = _ID.match(source)
    if not match:
        raise ValueError(f"not a TIC/KIC/EPIC identifier: {source!r}")
    return match.group(1).upper(), int(match.group(2))


def accepts(source: Any) -> bool:
    return isinstance(source, str) and _ID.match(source) is not None


def cached_files(kind: str, number: int, sectors: Sequence[int] | None, cache_dir: Path) -> list[Path]:
    """Cached TPFs of one target, restricted to ``sectors`` when the file name tells."""
    pattern, sector_re = _PATTERNS[kind]
    found = sorted(cache_dir.rglob(pattern.format(id=number, sector="*")))
    if sectors is None or sector_re is None:
        return found
    wanted = set(sectors)
    keep = []
    for path in found:
        match = re.search(sector_re, path.name)
        if match and int(match.group(1)) in wanted:
            keep.append(path)
    return keep


def load(source: Any, options: LoadOptions) -> list[Stamp]:
    kind, number = parse(source)
    mission = _MISSION[kind]
    cache = Path(options.cache_dir).expanduser() if options.cache_dir else default_cache_dir()
    files = cached_files(kind, number, options.sectors, cache)
    need_network = not files or (
        options.sectors is not None and kind != "KIC" and len(files) < len(options.sectors)
    )
    if need_network and not options.offline:
        cache.mkdir(parents=True, exist_ok=True)
        downloader = options.downloader or LightkurveDownloader()
        try:
            downloader.fetch(mission, f"{kind} {number}", options.sectors, cache)
        except DataError:
            raise
        except Exception as exc:  # network and archive failures come in many types
            raise DataError(source, f"download from MAST failed ({type(exc).__name__}: {exc})") from None
        files = cached_files(kind, number, options.sectors, cache)
    if not files:
        where = f"in the cache {cache}"
        if options.offline:
            raise DataError(
                source, f"offline and no target pixel files {where}; run once online or pass files"
            )
        raise DataError(source, f"MAST has no target pixel files for this target{_sectors(options)}")
    stamps = []
    for path in files:
        stamps.extend(tpf_fits.load(path, options))
    return stamps


def _sectors(options: LoadOptions) -> str:
    return "" if options.sectors is None else f" in sectors {', '.join(map(str, options.sectors))}"
