"""Time for the drill: ISO 8601 text in and out, the clock with its overrides, the learner's calendar day, and
times as short phrases.

Every stored moment is ISO 8601 in UTC, written with whole seconds and a ``Z`` (``2025-01-31T09:00:00Z``); a
time read without a zone is taken as UTC. Review dates are *local calendar days* (``2025-02-03``): the day in
the learner's time zone, which is the zone of the ``now`` a caller passes in (a naive ``now`` is UTC).

``current_time()`` is now in the learner's zone: the system's local zone, or the zone named by
``CURRICULUM_DRILL_TZ`` (``TZ_ENV``: an IANA name such as ``Asia/Tokyo``, ``UTC``, or an offset such as
``+09:00``). The environment variable ``CURRICULUM_DRILL_NOW`` (``NOW_ENV``) is a testing/override hook that
fixes the moment; its own offset is the zone (``Z`` is UTC) unless ``CURRICULUM_DRILL_TZ`` names one. Scheduling
never reads the clock itself; callers pass ``now`` in.

The ``*_text`` helpers phrase durations and review days for the terminal and the widget: ``clock_text(95)`` is
``1:35``; ``left_text`` gives ``2:00 left`` or ``over the limit by 0:05``; ``when_text`` gives ``today``,
``tomorrow (2025-01-02)`` or ``in 3 days (2025-01-04)``.
"""
from __future__ import annotations

import math
import os
import re
from datetime import date, datetime, timedelta, timezone, tzinfo

__all__ = ["NOW_ENV", "TZ_ENV", "parse_time", "format_time", "current_time", "as_utc", "learner_zone",
           "local_date", "parse_day", "zone_text", "clock_text", "left_text", "when_text"]

NOW_ENV = "CURRICULUM_DRILL_NOW"
TZ_ENV = "CURRICULUM_DRILL_TZ"
_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d\d)?\Z")


def parse_time(text: object, name: str = "time", *, keep_zone: bool = False) -> datetime:
    """An ISO 8601 time as an aware datetime in UTC (``keep_zone``: in its own offset); no zone means UTC."""
    if not isinstance(text, str):
        raise ValueError(f"{name} must be an ISO 8601 time string, got {text!r}")
    cleaned = text.strip()
    if cleaned[-1:] in ("Z", "z"):  # fromisoformat reads "Z" only from Python 3.11 on
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 time such as 2025-01-31T09:00:00Z, got {text!r}") from None
    if keep_zone and moment.tzinfo is not None:
        return moment
    return as_utc(moment, name)


def parse_day(text: object, name: str = "date") -> date:
    """A calendar day written ``YYYY-MM-DD``."""
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            pass
    raise ValueError(f"{name} must be a calendar date such as 2025-01-31, got {text!r}")


def format_time(moment: datetime) -> str:
    """``2025-01-31T09:00:00Z`` (UTC, whole seconds)."""
    return as_utc(moment, "moment").replace(microsecond=0).isoformat().replace("+00:00", "Z")


def learner_zone() -> tzinfo | None:
    """The zone named by ``CURRICULUM_DRILL_TZ``, or None (the system's local zone)."""
    name = os.environ.get(TZ_ENV, "").strip()
    if not name:
        return None
    if name.upper() in ("UTC", "Z"):
        return timezone.utc
    offset = _OFFSET.match(name)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta < timedelta(hours=24):
            return timezone(-delta if sign == "-" else delta)
    try:
        from zoneinfo import ZoneInfo  # the IANA database of the system (or the tzdata package)

        return ZoneInfo(name)
    except (KeyError, ValueError, OSError, ImportError):  # ZoneInfoNotFoundError is a KeyError
        pass
    raise ValueError(f"{TZ_ENV} must be an IANA time zone such as Asia/Tokyo, UTC, or an offset such as "
                     f"+09:00; got {name!r}")


def current_time() -> datetime:
    """Now (whole seconds) in the learner's zone; ``CURRICULUM_DRILL_NOW`` fixes the moment when set."""
    zone = learner_zone()
    override = os.environ.get(NOW_ENV, "").strip()
    if override:
        moment = parse_time(override, NOW_ENV, keep_zone=True)
        return moment.astimezone(zone) if zone is not None else moment
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    return moment.astimezone(zone) if zone is not None else moment.astimezone()  # no argument: system zone


def as_utc(now: datetime, name: str = "now") -> datetime:
    """``now`` in UTC; a datetime without a zone is taken as UTC. ``TypeError`` naming ``name`` otherwise."""
    if not isinstance(now, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(now).__name__}")
    return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)


def local_date(moment: datetime, zone_of: datetime | None = None) -> date:
    """The calendar day of ``moment`` in the zone of ``zone_of`` (default: ``moment``'s own; naive is UTC)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"now must be a datetime, got {type(moment).__name__}")
    reference = moment if zone_of is None else zone_of
    zone = reference.tzinfo if reference.tzinfo is not None else timezone.utc
    return as_utc(moment).astimezone(zone).date()


def zone_text(now: datetime) -> str:
    """The zone of ``now`` in words: ``Asia/Tokyo, UTC+09:00`` or ``UTC``."""
    now = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    offset = now.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    numeric = "UTC" if minutes == 0 else f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    name = getattr(now.tzinfo, "key", None)
    return f"{name}, {numeric}" if name and name != "UTC" else numeric


def clock_text(seconds: float) -> str:
    """``m:ss``, counting whole seconds down (negative durations show as ``0:00``)."""
    whole = int(max(seconds, 0.0))
    return f"{whole // 60}:{whole % 60:02d}"


def left_text(limit_s: float, elapsed: float) -> str:
    """``2:00 left`` (rounded up, so a fresh 2-minute card starts at 2:00) or ``over the limit by 0:05``."""
    left = limit_s - elapsed
    return f"{clock_text(math.ceil(left))} left" if left >= 0 else f"over the limit by {clock_text(-left)}"


def when_text(due: date, now: datetime) -> str:
    """When a card comes back, counted in the learner's calendar days: ``today``, ``tomorrow (2025-01-02)`` or
    ``in 3 days (2025-01-04)``."""
    days = (due - local_date(now)).days
    if days <= 0:
        return "today"
    return f"tomorrow ({due:%Y-%m-%d})" if days == 1 else f"in {days} days ({due:%Y-%m-%d})"
