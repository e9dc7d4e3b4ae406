"""What the runner guarantees around every check: no plugin can corrupt another's result.

* **Read-only inputs.**  :func:`read_only_stamp` hands a check views of the
  stamp's arrays that refuse writes, a read-only ``meta`` and its own copy of the
  WCS; a target-scope check gets copies of the per-sector results.  A check that
  writes into its input fails (an ``error`` result); the others never see it.
* **A time limit.**  :func:`time_limit` stops a check that runs longer than
  ``[run] check_time_limit_s`` (:data:`TIME_LIMIT_PARAM`): with ``SIGALRM`` in the
  main thread (``vetcore run``, serial and process-pool batches), by raising
  :class:`CheckTimeout` asynchronously in other threads (Dask workers).  Code
  blocked inside a C call is stopped when it returns to Python.
* **A result that can be recorded.**  :func:`checked_result` turns metrics that
  are not numbers/strings/booleans/None, results that do not serialise to JSON or
  exceed :data:`MAX_RESULT_BYTES`, into that check's ``error``; and a ``pass``
  that rests on NaN/inf metrics or on a stamp without a single in-transit cadence
  into ``inconclusive`` with a flag (:data:`RESULT_FLAGS`).
* **Read-only reports for hooks.**  :func:`read_only` wraps the report given to
  ``vetcore_report_finished``: every attribute, item and method result is
  itself read-only, so a hook cannot delete or change results.
"""

from __future__ import annotations

import copy
import ctypes
import json
import math
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np

from vetcore.model import CheckResult, LightCurve, Param, SectorContext, Stamp, Status, TargetContext

__all__ = [
    "MAX_METRICS",
    "MAX_RESULT_BYTES",
    "MAX_TEXT_CHARS",
    "RESULT_FLAGS",
    "TIME_LIMIT_PARAM",
    "CheckTimeout",
    "FrozenDict",
    "ReadOnlyView",
    "checked_result",
    "read_only",
    "read_only_context",
    "read_only_stamp",
    "time_limit",
]

#: ``[run] check_time_limit_s``: generous, so that only a hung check ever meets it.
TIME_LIMIT_PARAM = Param(
    "check_time_limit_s",
    1800.0,
    "Wall-clock seconds one check may run on one stamp (or one target) before it is stopped "
    "and recorded as an error.",
    unit="s",
    minimum=0.0,
    exclusive_minimum=True,
)
#: Most metrics one result may carry.
MAX_METRICS = 1000
#: Longest text metric or message (characters).
MAX_TEXT_CHARS = 10_000
#: Largest result (metrics, localization and plot data) as JSON, in bytes.
MAX_RESULT_BYTES = 32 * 1024**2

#: Flags the runner sets when it stops a check or corrects its result, with their explanation.
RESULT_FLAGS: dict[str, str] = {
    "NONFINITE_METRICS": "The check passed with NaN or infinite metrics (named in the message); a pass "
    "cannot rest on them, so the runner made the result inconclusive.",
    "NO_TRANSIT_IN_DATA": "No good cadence of this stamp falls inside a transit of the ephemeris, so the "
    "pass cannot come from the transit signal; the runner made the result inconclusive.",
    "INVALID_RESULT": "The check returned metrics or plot data that cannot be recorded (not plain values, "
    "not JSON-serialisable, or too large); the runner replaced the result by an error.",
    "TIME_LIMIT": "The check ran longer than check_time_limit_s and was stopped.",
    "CHECK_EXITED": "The check called sys.exit(); the runner stopped it and recorded an error.",
}


class CheckTimeout(BaseException):
    """Raised inside a check that exceeded its time limit (a BaseException, so that a check's
    own ``except Exception`` cannot swallow it)."""


# --------------------------------------------------------------------------- read-only inputs


def _frozen_array(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view
    return value


def read_only_stamp(stamp: Stamp) -> Stamp:
    """A stamp whose arrays refuse writes, whose ``meta`` is read-only and whose WCS is a copy.

    No pixel data are copied: the arrays are read-only views of the originals.
    """
    arrays = ("time", "flux", "aperture_mask", "flux_err", "quality", "background", "pos_corr")
    changes: dict[str, Any] = {name: _frozen_array(getattr(stamp, name)) for name in arrays}
    changes["meta"] = MappingProxyType(dict(stamp.meta))
    changes["wcs"] = copy.deepcopy(stamp.wcs)
    return attrs.evolve(stamp, **changes)


def _read_only_lightcurve(lightcurve: LightCurve | None) -> LightCurve | None:
    if lightcurve is None:
        return None
    return attrs.evolve(
        lightcurve,
        time=_frozen_array(lightcurve.time),
        flux=_frozen_array(lightcurve.flux),
        flux_err=_frozen_array(lightcurve.flux_err),
        quality=_frozen_array(lightcurve.quality),
    )


def read_only_context(ctx: SectorContext | TargetContext) -> SectorContext | TargetContext:
    """The context a check receives: read-only stamps and light curve; copies of earlier results."""
    if isinstance(ctx, SectorContext):
        stamp = read_only_stamp(ctx.stamp)
        return SectorContext(stamp, ctx.ephemeris, ctx.params, _read_only_lightcurve(ctx.lightcurve))
    results = MappingProxyType(
        {label: MappingProxyType(copy.deepcopy(dict(per))) for label, per in ctx.results.items()}
    )
    return attrs.evolve(ctx, stamps=tuple(read_only_stamp(s) for s in ctx.stamps), results=results)


# --------------------------------------------------------------------------- time limit


def _raise_timeout(signum: int, frame: Any) -> None:
    raise CheckTimeout


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CheckTimeout` in the calling thread once ``seconds`` have passed inside the block."""
    if seconds is None:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        previous = signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0.0)
            signal.signal(signal.SIGALRM, previous)
        return
    thread_id = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["active"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, ctypes.py_object(CheckTimeout))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["active"] = False
            if state["fired"]:  # not delivered yet if the block ended at that very moment
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, None)
        timer.cancel()


# --------------------------------------------------------------------------- results


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, np.bool_, np.integer, np.floating))


def _nonfinite(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) and not math.isfinite(float(value))


#: Longest JSON text of a finite float, ``-2.2250738585072014e-308``.
_FLOAT_CHARS = 24


def _json_length_bound(value: Any) -> int:
    """An upper bound of ``len(json.dumps(value, allow_nan=False))`` that raises what ``json.dumps``
    would: ``TypeError`` for a value JSON has no form for, ``ValueError`` for NaN/inf (cheaper than
    writing the text, which the report's renderers do anyway)."""
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, str):
        return 2 + 12 * len(value)  # every character escaped, as a surrogate pair at worst
    if isinstance(value, int):
        return len(int.__repr__(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return _FLOAT_CHARS
    if isinstance(value, (list, tuple)):
        if all(type(v) is float for v in value):  # a numeric series
            if not all(map(math.isfinite, value)):
                raise ValueError("Out of range float values are not JSON compliant")
            return 2 + len(value) * (_FLOAT_CHARS + 2)
        return 2 + sum(_json_length_bound(v) + 2 for v in value)
    if isinstance(value, dict):
        total = 2
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float))):
                raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
            key_text = key if isinstance(key, str) else "null" if key is None else key
            total += _json_length_bound(key_text) + 4 + _json_length_bound(item)  # quotes, ": ", ", "
        return total
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _invalid(result: CheckResult) -> str | None:
    """Why ``result`` cannot be recorded, or ``None``."""
    from vetcore.serialize import result_to_dict

    if not isinstance(result.metrics, Mapping):
        return f"metrics must be a mapping, got {type(result.metrics).__name__}"
    if len(result.metrics) > MAX_METRICS:
        return f"{len(result.metrics)} metrics (at most {MAX_METRICS})"
    for key, value in result.metrics.items():
        if not isinstance(key, str):
            return f"metric name {key!r} is not a string"
        if not _is_plain(value):
            return (
                f"metric {key!r} is a {type(value).__name__}; metrics are numbers, strings, booleans or None"
            )
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            return f"metric {key!r} is {len(value)} characters long (at most {MAX_TEXT_CHARS})"
    if len(result.message) > MAX_TEXT_CHARS:
        return f"the message is {len(result.message)} characters long (at most {MAX_TEXT_CHARS})"
    try:
        data = result_to_dict(result)
        size = _json_length_bound(data)
        if size > MAX_RESULT_BYTES:  # the bound is loose: measure
            size = len(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError) as exc:
        return f"the result cannot be written to JSON ({exc})"
    if size > MAX_RESULT_BYTES:
        return f"the result is {size / 1024**2:.0f} MiB as JSON (at most {MAX_RESULT_BYTES // 1024**2} MiB)"
    return None


def _localization_nonfinite(result: CheckResult) -> bool:
    loc = result.localization
    if loc is None:
        return False
    values = np.concatenate(
        [np.ravel(loc.offset_arcsec), np.ravel(loc.covariance_arcsec2), [loc.ra, loc.dec]]
    )
    return not bool(np.isfinite(values).all())


def _in_transit_cadences(ctx: SectorContext) -> int:
    from vetcore.transits import in_transit_mask

    return int((in_transit_mask(ctx.stamp, ctx.ephemeris) & ctx.stamp.good).sum())


def _inconclusive(result: CheckResult, flag: str, why: str) -> CheckResult:
    said = f" (the check said: {result.message})" if result.message else ""
    return result.replace(
        status=Status.INCONCLUSIVE,
        flags=(*result.flags, flag) if flag not in result.flags else result.flags,
        message=f"{why}{said}",
    )


def checked_result(check_id: str, result: CheckResult, ctx: SectorContext | TargetContext) -> CheckResult:
    """``result`` if it can be recorded and stands on its data; else its error or inconclusive form."""
    problem = _invalid(result)
    if problem is not None:
        text = f"check {check_id} returned an invalid result: {problem}"
        return CheckResult(status=Status.ERROR, flags=("INVALID_RESULT",), message=text, error=text)
    if result.status is not Status.PASS:
        return result
    bad = sorted(k for k, v in result.metrics.items() if _nonfinite(v))
    if _localization_nonfinite(result):
        bad.append("localization")
    if bad:
        return _inconclusive(result, "NONFINITE_METRICS", f"pass withdrawn: non-finite {', '.join(bad)}")
    if isinstance(ctx, SectorContext) and _in_transit_cadences(ctx) == 0:
        return _inconclusive(
            result, "NO_TRANSIT_IN_DATA", "pass withdrawn: no in-transit cadence in this stamp"
        )
    return result


# --------------------------------------------------------------------------- read-only views


class ReadOnlyView:
    """A view of an object through which nothing can be changed.

    Attributes and the results of method calls come back as read-only too:
    mappings as :class:`FrozenDict`, sequences as tuples, arrays as read-only
    views, other objects as views; plain values (numbers, strings, enums) as
    they are.  The view compares equal to the object it shows.
    """

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        return read_only(getattr(object.__getattribute__(self, "_target"), name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"read-only view: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"read-only view: cannot delete {name!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return read_only(object.__getattribute__(self, "_target")(*args, **kwargs))

    def __eq__(self, other: object) -> bool:
        target = object.__getattribute__(self, "_target")
        if isinstance(other, ReadOnlyView):
            other = object.__getattribute__(other, "_target")
        return bool(target is other or target == other)

    def __hash__(self) -> int:
        return hash(object.__getattribute__(self, "_target"))

    def __repr__(self) -> str:
        return f"<read-only {object.__getattribute__(self, '_target')!r}>"


class FrozenDict(dict[Any, Any]):
    """A ``dict`` that refuses every change (still a ``dict`` for ``json`` and ``isinstance``)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("read-only view: this mapping cannot be changed")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse


_PLAIN = (type(None), bool, int, float, complex, str, bytes, np.generic)


def read_only(value: Any) -> Any:
    """``value`` itself when immutable, else a read-only view of it (see :class:`ReadOnlyView`)."""
    if isinstance(value, (_PLAIN, ReadOnlyView, FrozenDict)) or isinstance(value, type):
        return value
    if isinstance(value, np.ndarray):
        return _frozen_array(value)
    if isinstance(value, Mapping):
        return FrozenDict({k: read_only(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(read_only(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    return ReadOnlyView(value)
