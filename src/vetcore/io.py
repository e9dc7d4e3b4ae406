"""Safe file output: atomic writes and paths that stay inside the output folder."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

from vetcore.errors import ConfigError, VetcoreError

__all__ = ["atomic_write", "check_output_folder", "file_mode", "inside", "safe_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_UMASK_LOCK = threading.Lock()


def file_mode() -> int:
    """The mode a new file gets from ``open()`` under the current umask (``0o666 & ~umask``)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def safe_name(name: str, fallback: str = "target") -> str:
    """A file-name-safe version of ``name`` (no separators, no leading dots)."""
    cleaned = _UNSAFE.sub("_", name.strip()).strip("._")
    return cleaned[:120] or fallback


def inside(out_dir: str | os.PathLike[str], *parts: str) -> Path:
    """Join ``parts`` under ``out_dir`` and refuse anything that escapes it."""
    root = Path(out_dir).resolve()
    path = root.joinpath(*parts).resolve()
    if path != root and root not in path.parents:
        raise VetcoreError(f"output path {path} would leave the output folder {root}")
    return path


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    A reader never sees a half-written file, and an existing file is replaced
    only once the new content is complete.  The file gets the mode of a file
    created with ``open()`` (``0o666`` less the umask; e.g. 0644 under umask
    022), so reports on a shared filesystem are readable by colleagues.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_output_folder(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """``path`` if it is, or can be created as, a writable folder; else a :class:`ConfigError`
    naming ``option``.

    Called before any computation, so that a run never ends on "cannot write".
    """
    text = os.fspath(path)
    if not text.strip():
        raise ConfigError(f"{option}: empty path; give an output folder")
    folder = Path(text).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{option}: {folder} exists and is not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{option}: cannot create {folder}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{option}: cannot write into {existing}: permission denied")
    return folder
