"""Human-readable progress lines for the ``progress(kind, **info)`` events of a run.

Names and messages come from files and plugins; :func:`printable` makes them
safe for a terminal (no escape sequences, no control characters) before they
are shown.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

__all__ = ["StreamProgress", "printable"]

#: ANSI/VT escape sequences (CSI, OSC, and two-character ESC forms), then any other
#: C0/C1 control character, DEL, or bidirectional-text override (which reorders what is shown).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, screen clears
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[@-_]"  # other two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def printable(text: object) -> str:
    """``text`` as one terminal-safe line: escape sequences removed, other control characters
    (newlines and tabs included) replaced by a space, runs of spaces collapsed."""
    cleaned = _CONTROLS.sub(" ", _ESCAPES.sub("", str(text)))
    return " ".join(cleaned.split())


class StreamProgress:
    """Writes one line per event to a stream (default: standard error).

    Use as the ``progress`` argument of :func:`vetcore.vet`; unknown event kinds
    are ignored, so newer runners stay compatible.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def __call__(self, kind: str, **info: Any) -> None:
        line = self.format(kind, info)
        if line is not None:
            stream = self.stream if self.stream is not None else sys.stderr
            print(line, file=stream, flush=True)

    @staticmethod
    def format(kind: str, info: dict[str, Any]) -> str | None:
        """The line for one event, or ``None`` for events not shown."""
        target = printable(info.get("target", ""))
        if kind == "loaded":
            return f"[{target}] loaded {_names(info['sectors'])} ({info['elapsed_s']:.1f} s)"
        if kind == "target_start":
            return f"[{target}] running {_names(info['checks'])} on {_names(info['sectors'])}"
        if kind == "check_done":
            where = printable(info["sector"] or "all sectors")
            text = printable(info.get("message") or "")
            message = f"  {text[:97]}..." if len(text) > 100 else (f"  {text}" if text else "")
            return (
                f"[{target}] {where} {printable(info['check'])}: {printable(info['status'])} "
                f"({info['elapsed_s']:.2f} s){message}"
            )
        if kind == "target_done":
            return f"[{target}] done in {info['elapsed_s']:.1f} s"
        return None


def _names(items: Any) -> str:
    return ", ".join(printable(item) for item in items)
