"""Skills self-assessment: ratings from 1 to 5 over time.

Each topic file lists 2-4 skills; the candidate rates each one from 1 (cannot do it yet) to 5 (could teach it)
now and then. One self-assessment is stored as one timestamped entry in the progress file's ``"skills"`` list,
``{"time": "2025-01-01T09:00:00Z", "ratings": {"vae: Derive the ELBO two ways": 3}}``; a skill is keyed
``"<topic>: <skill>"`` (``skill_key``) so equal skill names in two topics stay apart. ``skill_progress`` gives
each skill's first and latest rating, the change between them and the whole history.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .clock import as_utc, format_time, parse_time
from .deck import is_whole_in

if TYPE_CHECKING:  # the store checks ratings with this module; only the type is needed here
    from .store import Progress

__all__ = ["RATING_RANGE", "skill_key", "record_skills", "SkillTrend", "skill_progress", "latest_skill_ratings"]

RATING_RANGE = (1, 5)


def is_rating(rating: object) -> bool:
    return is_whole_in(rating, *RATING_RANGE)


def skill_key(topic: str, skill: str) -> str:
    """How a skill is named in the progress file: ``"<topic>: <skill>"``."""
    return f"{topic}: {skill}"


def record_skills(progress: Progress, ratings: Mapping[str, int], now: datetime) -> dict | None:
    """Store one self-assessment (``{skill key: 1..5}``) with its time; nothing is stored for no ratings."""
    low, high = RATING_RANGE
    for skill, rating in ratings.items():
        if not is_rating(rating):
            raise ValueError(f"ratings[{skill!r}] must be an integer in [{low}, {high}], got {rating!r}")
    if not ratings:
        return None
    entry = {"time": format_time(as_utc(now)), "ratings": dict(ratings)}
    progress.add_skills(entry)
    return entry


@dataclass(frozen=True)
class SkillTrend:
    """One skill's self-ratings over time."""

    skill: str
    first: int
    latest: int
    change: int
    first_time: datetime
    latest_time: datetime
    history: tuple[tuple[datetime, int], ...]


def skill_progress(progress: Progress) -> dict[str, SkillTrend]:
    """Per skill key: first rating, latest rating, change (latest - first) and the whole history."""
    history: dict[str, list[tuple[datetime, int]]] = {}
    entries = sorted(progress.skills, key=lambda entry: parse_time(entry["time"]))
    for entry in entries:
        moment = parse_time(entry["time"])
        for skill, rating in entry["ratings"].items():
            history.setdefault(skill, []).append((moment, rating))
    return {skill: SkillTrend(skill=skill, first=points[0][1], latest=points[-1][1],
                              change=points[-1][1] - points[0][1], first_time=points[0][0],
                              latest_time=points[-1][0], history=tuple(points))
            for skill, points in history.items()}


def latest_skill_ratings(progress: Progress) -> dict[str, int]:
    """Each rated skill key's latest rating."""
    return {skill: trend.latest for skill, trend in skill_progress(progress).items()}
