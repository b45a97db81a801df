"""Time for the drill: ISO 8601 text in and out, the clock with its override, and times as short phrases.

Every stored time is ISO 8601 in UTC, written with whole seconds and a ``Z`` (``2025-01-31T09:00:00Z``); a time
read without a zone is taken as UTC. ``current_time()`` is the system clock in UTC, unless the environment
variable ``CURRICULUM_DRILL_NOW`` (``NOW_ENV``) holds a time: a testing/override hook the command line uses as
"now". Scheduling never reads the clock itself; callers pass ``now`` in.

The ``*_text`` helpers phrase durations and due times for the terminal and the widget: ``clock_text(95)`` is
``1:35``; ``left_text`` gives ``2:00 left`` or ``over the limit by 0:05``; ``when_text`` gives ``now``,
``in 5 h`` or ``in 3 days (2025-01-04)``.
"""
from __future__ import annotations

import math
import os
from datetime import datetime, timedelta, timezone

__all__ = ["NOW_ENV", "parse_time", "format_time", "current_time", "as_utc", "clock_text", "left_text",
           "when_text"]

NOW_ENV = "CURRICULUM_DRILL_NOW"


def parse_time(text: object, name: str = "time") -> datetime:
    """An ISO 8601 time as an aware UTC datetime; a time without a zone is taken as UTC."""
    if not isinstance(text, str):
        raise ValueError(f"{name} must be an ISO 8601 time string, got {text!r}")
    cleaned = text.strip()
    if cleaned[-1:] in ("Z", "z"):  # fromisoformat reads "Z" only from Python 3.11 on
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 time such as 2025-01-31T09:00:00Z, got {text!r}") from None
    return as_utc(moment, name)


def format_time(moment: datetime) -> str:
    """``2025-01-31T09:00:00Z`` (UTC, whole seconds)."""
    return as_utc(moment, "moment").replace(microsecond=0).isoformat().replace("+00:00", "Z")


def current_time() -> datetime:
    """Now in UTC (whole seconds), or the time in ``CURRICULUM_DRILL_NOW`` when set (a testing/override hook)."""
    override = os.environ.get(NOW_ENV, "").strip()
    if override:
        return parse_time(override, NOW_ENV)
    return datetime.now(timezone.utc).replace(microsecond=0)


def as_utc(now: datetime, name: str = "now") -> datetime:
    """``now`` in UTC; a datetime without a zone is taken as UTC. ``TypeError`` naming ``name`` otherwise."""
    if not isinstance(now, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(now).__name__}")
    return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)


def clock_text(seconds: float) -> str:
    """``m:ss``, counting whole seconds down (negative durations show as ``0:00``)."""
    whole = int(max(seconds, 0.0))
    return f"{whole // 60}:{whole % 60:02d}"


def left_text(limit_s: float, elapsed: float) -> str:
    """``2:00 left`` (rounded up, so a fresh 2-minute card starts at 2:00) or ``over the limit by 0:05``."""
    left = limit_s - elapsed
    return f"{clock_text(math.ceil(left))} left" if left >= 0 else f"over the limit by {clock_text(-left)}"


def when_text(due: datetime, now: datetime) -> str:
    """When a card comes back: ``now``, ``in 5 h`` or ``in 3 days (2025-01-04)``."""
    if due <= now:
        return "now"
    days = (due - now) / timedelta(days=1)
    count = f"{days:.0f} day{'s' if round(days) != 1 else ''}" if days >= 1 else f"{days * 24:.0f} h"
    return f"in {count} ({due:%Y-%m-%d})"
