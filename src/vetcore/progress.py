"""Human-readable progress lines for the ``progress(kind, **info)`` events of a run."""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["StreamProgress"]


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
        if kind == "loaded":
            return f"[{info['target']}] loaded {', '.join(info['sectors'])} ({info['elapsed_s']:.1f} s)"
        if kind == "target_start":
            return f"[{info['target']}] running {', '.join(info['checks'])} on {', '.join(info['sectors'])}"
        if kind == "check_done":
            where = info["sector"] or "all sectors"
            text = " ".join(str(info.get("message") or "").split())
            message = f"  {text[:97]}..." if len(text) > 100 else (f"  {text}" if text else "")
            return (
                f"[{info['target']}] {where} {info['check']}: {info['status']} "
                f"({info['elapsed_s']:.2f} s){message}"
            )
        if kind == "target_done":
            return f"[{info['target']}] done in {info['elapsed_s']:.1f} s"
        return None
