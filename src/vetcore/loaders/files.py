"""Opening user files: say what a path really is, and never inflate without bounds.

:func:`check_regular_file` turns every way a path can fail to be a readable
file (missing, dangling or looping symbolic link, named pipe, folder, device,
no permission, empty) into a :class:`~vetcore.errors.DataError` saying so —
without ever opening a FIFO, which would block.

:func:`inflate_fits` decompresses a gzip or bzip2 FITS file into memory in
chunks and stops as soon as either bound is crossed:

* the inflated bytes run past what the FITS headers declare (each HDU is a
  header of 2880-byte blocks plus ``|BITPIX|/8 × GCOUNT × (PCOUNT + ΠNAXISn)``
  bytes of data, padded to 2880; FITS Standard 4.0 §3.3–3.4 and §4.4.1) by more
  than :data:`TRAILING_SLACK_BYTES`;
* more than :data:`RATIO_CHECKED_ABOVE_BYTES` have been inflated at over
  :data:`MAX_COMPRESSION_RATIO` times the compressed size (real pixel files
  compress 1.5–5×; a decompression bomb 1000×).

:data:`MAX_COMPRESSION_RATIO` and :data:`RATIO_CHECKED_ABOVE_BYTES` bound
``.npz`` archives the same way (:mod:`vetcore.loaders.npz`).
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import os
import stat
from pathlib import Path
from typing import Any

from vetcore.errors import DataError

__all__ = [
    "FITS_BLOCK",
    "MAX_COMPRESSION_RATIO",
    "RATIO_CHECKED_ABOVE_BYTES",
    "TRAILING_SLACK_BYTES",
    "check_inflation_ratio",
    "check_regular_file",
    "compression_of",
    "inflate_fits",
]

#: FITS files are made of 2880-byte blocks.
FITS_BLOCK = 2880
#: Bytes allowed after the last HDU a FITS file's headers declare.
TRAILING_SLACK_BYTES = 64 * FITS_BLOCK
#: Largest accepted ratio of inflated to compressed size, beyond RATIO_CHECKED_ABOVE_BYTES.
MAX_COMPRESSION_RATIO = 100
#: Inflated sizes up to this are accepted whatever the ratio (an all-NaN stamp compresses well).
RATIO_CHECKED_ABOVE_BYTES = 64 * 1024**2

_CHUNK = 1024**2
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2"}


def check_regular_file(path: str | os.PathLike[str]) -> Path:
    """``path`` if it is a readable, non-empty regular file; else a :class:`DataError` saying what it is."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if path.is_symlink():
            raise DataError(
                path, f"dangling symbolic link (to {os.readlink(path)}, which does not exist)"
            ) from None
        raise DataError(path, "no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataError(path, "symbolic link loop (the link resolves to itself)") from None
        if exc.errno == errno.EACCES:
            raise DataError(path, "permission denied (a folder on the path cannot be searched)") from None
        raise DataError(path, f"cannot access the file ({exc.strerror or exc})") from None
    mode = info.st_mode
    kinds = (
        (stat.S_ISDIR, "is a folder, not a file"),
        (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file; vetcore reads regular files only"),
        (stat.S_ISSOCK, "is a socket, not a regular file"),
        (stat.S_ISCHR, "is a character device, not a regular file"),
        (stat.S_ISBLK, "is a block device, not a regular file"),
    )
    for test, what in kinds:
        if test(mode):
            raise DataError(path, what)
    if not stat.S_ISREG(mode):
        raise DataError(path, "not a regular file")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise DataError(path, "permission denied (the file is not readable by this user)") from None
    except OSError as exc:
        raise DataError(path, f"cannot open the file ({exc.strerror or exc})") from None
    if info.st_size == 0:
        raise DataError(path, "empty file (0 bytes)")
    return path


def compression_of(path: Path) -> str | None:
    """``"gzip"`` or ``"bzip2"`` from the file's first bytes (whatever its name), else ``None``."""
    with open(path, "rb") as fh:
        head = fh.read(3)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def check_inflation_ratio(path: Path, inflated: int, compressed: int) -> None:
    """Refuse ``inflated`` bytes from ``compressed`` when beyond the ratio bound (see the module)."""
    if inflated > RATIO_CHECKED_ABOVE_BYTES and inflated > MAX_COMPRESSION_RATIO * max(compressed, 1):
        raise DataError(
            path,
            f"refusing to decompress: more than {inflated // 1024**2} MiB from {compressed} compressed bytes "
            f"(ratio > {MAX_COMPRESSION_RATIO}:1; pixel files compress about 2-5:1), a decompression bomb?",
        )


class _FitsExtent:
    """Follows the HDU headers of a FITS byte stream as it grows: where the declared data end."""

    def __init__(self) -> None:
        self.next_hdu = 0  # offset where the next HDU header would start
        self.finished = False  # no further HDU header follows (end of the declared structure)
        self.readable = True  # False once a header cannot be parsed: only the ratio bound applies

    def feed(self, data: memoryview) -> None:
        while not self.finished and self.readable and len(data) >= self.next_hdu + FITS_BLOCK:
            first = bytes(data[self.next_hdu : self.next_hdu + 9])
            if first != (b"SIMPLE  =" if self.next_hdu == 0 else b"XTENSION="):
                self.finished = self.next_hdu > 0
                self.readable = self.next_hdu > 0
                return
            cards = self._header(data, self.next_hdu)
            if cards is None:
                return  # header not complete yet
            header_end, values = cards
            try:
                size = self._data_size(values)
            except (KeyError, ValueError):
                self.readable = False
                return
            self.next_hdu = header_end + -(-size // FITS_BLOCK) * FITS_BLOCK

    @staticmethod
    def _header(data: memoryview, start: int) -> tuple[int, dict[str, str]] | None:
        values: dict[str, str] = {}
        offset = start
        while len(data) >= offset + FITS_BLOCK:
            block = bytes(data[offset : offset + FITS_BLOCK])
            offset += FITS_BLOCK
            for i in range(0, FITS_BLOCK, 80):
                card = block[i : i + 80].decode("ascii", "replace")
                key = card[:8].strip()
                if key == "END":
                    return offset, values
                if card[8:10] == "= " and (key in _SIZE_KEYS or key.startswith("NAXIS")):
                    values[key] = card[10:].split("/")[0].strip()
        return None

    @staticmethod
    def _data_size(values: dict[str, str]) -> int:
        naxis = int(values["NAXIS"])
        if naxis == 0:
            return 0
        count = 1
        for i in range(1, naxis + 1):
            count *= int(values[f"NAXIS{i}"])
        bits = abs(int(values["BITPIX"]))
        return bits // 8 * int(values.get("GCOUNT", "1")) * (int(values.get("PCOUNT", "0")) + count)

    def overrun(self, inflated: int) -> int:
        """Bytes inflated beyond the declared structure (0 while it may go on)."""
        return inflated - self.next_hdu if self.finished else 0


_SIZE_KEYS = {"BITPIX", "NAXIS", "PCOUNT", "GCOUNT"}


def inflate_fits(path: Path, compression: str) -> io.BytesIO:
    """The decompressed content of a gzip/bzip2 FITS file, within the bounds of the module docstring."""
    opener: Any = gzip.open if compression == "gzip" else bz2.open
    compressed = path.stat().st_size
    extent = _FitsExtent()
    buffer = io.BytesIO()
    with opener(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            buffer.write(chunk)
            inflated = buffer.tell()
            with buffer.getbuffer() as view:
                extent.feed(view)
            beyond = extent.overrun(inflated)
            if beyond > TRAILING_SLACK_BYTES:
                raise DataError(
                    path,
                    f"refusing to decompress: it inflates beyond the {extent.next_hdu} bytes its "
                    f"FITS headers declare (at least {beyond} more), a decompression bomb or a corrupt file?",
                )
            check_inflation_ratio(path, inflated, compressed)
    buffer.seek(0)
    return buffer
