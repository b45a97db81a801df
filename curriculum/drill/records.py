"""The progress file's JSON: its structure, how each entry is checked, and how entries become objects.

A version-1 document (see ``store`` for where it lives and how it is written)::

    {"version": 1,
     "start_date": "2025-01-01",
     "cards": {"<card id>": {"box": 1, "due": "2025-01-04",
                             "reviews": [{"time": "2025-01-01T09:00:00Z", "grade": "strong", "seconds": 95.2,
                                          "time_limit_s": 180, "over_limit": false,
                                          "before": {"box": 0, "due": null}}]}},
     "skills": [{"time": "2025-01-01T09:00:00Z", "ratings": {"vae: Derive the ELBO two ways": 3}}],
     "mocks": [{"time": "...", "budget_s": 3300, "seconds": 3012.5,
                "problems": [{"number": 1, "card": "vae-elbo-derivation", "limit_s": 600, "seconds": 512.0,
                              "grade": "strong"}]}],
     "archived": [{"time": "...", "topic": "vae", "cards": {"<card id>": {...}}}],
     "last_review": {"card": "vae-elbo-derivation", "time": "2025-01-01T09:00:00Z"}}

``last_review`` names the most recent grade (card and time) so that undo can tell apart grades given within
the same second. ``due`` is the learner's calendar day. Files written before calendar days hold a UTC time there
(``"2025-01-04T09:00:00Z"``); such a time is read as the calendar day it falls on in the zone of the reader's
``now``. ``start_date`` (the study plan's day 0), ``mocks`` (mock interviews) and ``archived`` (topics reset,
kept rather than deleted) are optional. Any other top-level key is kept as it is.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from .clock import local_date, parse_day, parse_time
from .deck import json_kind
from .scheduling import GRADES, MAX_BOX, CardState, Review, is_box, is_seconds
from .skills import RATING_RANGE, is_rating

__all__ = ["PROGRESS_VERSION", "TOP_KEYS", "BadProgress", "check_structure", "state_from_json", "due_from_json",
           "extra_keys"]

PROGRESS_VERSION = 1
TOP_KEYS = ("version", "cards", "skills")  # every other top-level key travels in Progress.extra


class BadProgress(ValueError):
    """The file parsed as JSON but does not have the progress structure."""


def _time(text: object, where: str) -> datetime:
    try:
        return parse_time(text, where)
    except ValueError as err:
        raise BadProgress(str(err)) from None


def due_from_json(value: object, where: str, zone_of: datetime | None = None) -> date | None:
    """A stored ``due``: a calendar day, null, or (older files) a UTC time read as its day in ``zone_of``'s zone."""
    if value is None:
        return None
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return parse_day(value, where)
        except ValueError as err:
            raise BadProgress(str(err)) from None
    return local_date(_time(value, where), zone_of)


def _before_from_json(data: object, where: str) -> dict | None:
    if data is None:
        return None
    if not isinstance(data, Mapping) or not is_box(data.get("box")):
        raise BadProgress(f"{where} must be an object with a box in [0, {MAX_BOX}] and a due day")
    due_from_json(data.get("due"), f"{where}.due")
    return {"box": data["box"], "due": data.get("due")}


def _review_from_json(data: object, where: str) -> Review:
    if not isinstance(data, Mapping):
        raise BadProgress(f"{where} must be an object, got {json_kind(data)}")
    for key in ("time", "grade", "seconds", "over_limit"):
        if key not in data:
            raise BadProgress(f"{where} is missing {key!r}")
    moment = _time(data["time"], f"{where}.time")
    if data["grade"] not in GRADES:
        raise BadProgress(f"{where}.grade must be one of {', '.join(GRADES)}, got {data['grade']!r}")
    if not is_seconds(data["seconds"]):
        raise BadProgress(f"{where}.seconds must be a non-negative number, got {data['seconds']!r}")
    if not isinstance(data["over_limit"], bool):
        raise BadProgress(f"{where}.over_limit must be true or false, got {data['over_limit']!r}")
    limit = data.get("time_limit_s")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise BadProgress(f"{where}.time_limit_s must be an integer, got {limit!r}")
    return Review(time=moment, grade=data["grade"], seconds=float(data["seconds"]), over_limit=data["over_limit"],
                  time_limit_s=limit, before=_before_from_json(data.get("before"), f"{where}.before"))


def state_from_json(data: object, where: str, zone_of: datetime | None = None) -> CardState:
    """A card entry as a ``CardState`` (``zone_of``: whose zone turns an old UTC due time into a day)."""
    if not isinstance(data, Mapping):
        raise BadProgress(f"{where} must be an object, got {json_kind(data)}")
    box = data.get("box")
    if not is_box(box):
        raise BadProgress(f"{where}.box must be an integer in [0, {MAX_BOX}], got {box!r}")
    due = due_from_json(data.get("due"), f"{where}.due", zone_of)
    reviews = data.get("reviews", [])
    if not isinstance(reviews, list):
        raise BadProgress(f"{where}.reviews must be a list, got {json_kind(reviews)}")
    return CardState(box=box, due=due,
                     reviews=tuple(_review_from_json(item, f"{where}.reviews[{i}]") for i, item in enumerate(reviews)))


def _check_skill_entry(entry: object, where: str) -> None:
    if not isinstance(entry, Mapping) or "time" not in entry or not isinstance(entry.get("ratings"), Mapping):
        raise BadProgress(f"{where} must be an object with 'time' and 'ratings'")
    _time(entry["time"], f"{where}.time")
    low, high = RATING_RANGE
    for skill, rating in entry["ratings"].items():
        if not is_rating(rating):
            raise BadProgress(f"{where}.ratings[{skill!r}] must be an integer in [{low}, {high}], got {rating!r}")


def _check_timed_list(data: Mapping, key: str, needs: tuple[str, ...]) -> None:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise BadProgress(f"{key!r} must be a list, got {json_kind(entries)}")
    for index, entry in enumerate(entries):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping) or any(name not in entry for name in ("time", *needs)):
            raise BadProgress(f"{where} must be an object with {', '.join(map(repr, ('time', *needs)))}")
        _time(entry["time"], f"{where}.time")


def check_structure(data: object) -> None:
    """Raise ``BadProgress`` unless ``data`` is a version-1 progress document."""
    if not isinstance(data, Mapping):
        raise BadProgress(f"the top level must be an object, got {json_kind(data)}")
    if data.get("version") != PROGRESS_VERSION:
        raise BadProgress(f"'version' must be {PROGRESS_VERSION}, got {data.get('version')!r}")
    cards = data.get("cards")
    if not isinstance(cards, Mapping):
        raise BadProgress(f"'cards' must be an object mapping card ids to their state, got {json_kind(cards)}")
    for card_id, entry in cards.items():
        state_from_json(entry, f"cards[{card_id!r}]")
    skills = data.get("skills", [])
    if not isinstance(skills, list):
        raise BadProgress(f"'skills' must be a list, got {json_kind(skills)}")
    for index, entry in enumerate(skills):
        _check_skill_entry(entry, f"skills[{index}]")
    if data.get("start_date") is not None:
        try:
            parse_day(data["start_date"], "'start_date'")
        except ValueError as err:
            raise BadProgress(str(err)) from None
    _check_timed_list(data, "mocks", ("problems",))
    _check_timed_list(data, "archived", ("topic", "cards"))


def extra_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level keys other than version, cards and skills."""
    return {key: value for key, value in data.items() if key not in TOP_KEYS}
