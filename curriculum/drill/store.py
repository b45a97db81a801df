"""The progress file: where it lives, how it is read, merged and written, and what happens to a bad one.

One JSON file, ``platformdirs.user_data_dir("genmodels-curriculum")/drill_progress.json`` unless the
environment variable ``CURRICULUM_DRILL_FILE`` (``FILE_ENV``, a file path) or an explicit path says otherwise::

    {"version": 1,
     "cards": {"<card id>": {"box": 1, "due": "2025-01-04T09:00:00Z",
                             "reviews": [{"time": "...", "grade": "strong", "seconds": 95.2,
                                          "time_limit_s": 180, "over_limit": false}]}},
     "skills": [{"time": "2025-01-01T09:00:00Z", "ratings": {"vae: Derive the ELBO two ways": 3}}]}

Times are ISO 8601 in UTC. A skill is keyed ``"<topic>: <skill>"`` so equal skill names in two topics stay
apart. Writes are atomic (``curriculum.io.atomic_write_text``): a crash or a kill mid-write leaves the previous
file intact. A save re-reads the file first and merges, so two sessions (a terminal and a notebook) do not
erase each other's reviews of different cards. A file that cannot be read or parsed (bad JSON, wrong
structure, another version) is never overwritten or deleted: it is moved aside to
``<name>.corrupt-<UTC timestamp>``, a notice naming both paths is kept in ``Progress.notices``, and progress
starts fresh. Entries for card ids that are not in the deck (removed or renamed cards) are kept in the file
as they are and ignored.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..io import atomic_write_text
from .clock import as_utc, parse_time
from .deck import Card, json_kind
from .scheduling import GRADES, MAX_BOX, CardState, Review, is_box, is_seconds, review
from .skills import RATING_RANGE, is_rating

__all__ = ["FILE_ENV", "Progress", "ProgressError", "progress_path", "load_progress", "save_progress",
           "record_review"]

FILE_ENV = "CURRICULUM_DRILL_FILE"
APP_NAME = "genmodels-curriculum"
PROGRESS_FILENAME = "drill_progress.json"
PROGRESS_VERSION = 1
_TOP_KEYS = ("version", "cards", "skills")  # every other top-level key is kept as it is ("extra")


class ProgressError(OSError):
    """The progress file cannot be used (for example it is unreadable and cannot be moved aside)."""


class _BadProgress(ValueError):
    """The file parsed as JSON but does not have the progress structure."""


def _time_from_json(text: object, where: str) -> datetime:
    try:
        return parse_time(text, where)
    except ValueError as err:
        raise _BadProgress(str(err)) from None


def _review_from_json(data: object, where: str) -> Review:
    if not isinstance(data, Mapping):
        raise _BadProgress(f"{where} must be an object, got {json_kind(data)}")
    for key in ("time", "grade", "seconds", "over_limit"):
        if key not in data:
            raise _BadProgress(f"{where} is missing {key!r}")
    moment = _time_from_json(data["time"], f"{where}.time")
    if data["grade"] not in GRADES:
        raise _BadProgress(f"{where}.grade must be one of {', '.join(GRADES)}, got {data['grade']!r}")
    if not is_seconds(data["seconds"]):
        raise _BadProgress(f"{where}.seconds must be a non-negative number, got {data['seconds']!r}")
    if not isinstance(data["over_limit"], bool):
        raise _BadProgress(f"{where}.over_limit must be true or false, got {data['over_limit']!r}")
    limit = data.get("time_limit_s")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise _BadProgress(f"{where}.time_limit_s must be an integer, got {limit!r}")
    return Review(time=moment, grade=data["grade"], seconds=float(data["seconds"]), over_limit=data["over_limit"],
                  time_limit_s=limit)


def _state_from_json(data: object, where: str) -> CardState:
    if not isinstance(data, Mapping):
        raise _BadProgress(f"{where} must be an object, got {json_kind(data)}")
    box = data.get("box")
    if not is_box(box):
        raise _BadProgress(f"{where}.box must be an integer in [0, {MAX_BOX}], got {box!r}")
    due = data.get("due")
    due_time = None if due is None else _time_from_json(due, f"{where}.due")
    reviews = data.get("reviews", [])
    if not isinstance(reviews, list):
        raise _BadProgress(f"{where}.reviews must be a list, got {json_kind(reviews)}")
    return CardState(box=box, due=due_time,
                     reviews=tuple(_review_from_json(item, f"{where}.reviews[{i}]") for i, item in enumerate(reviews)))


def _check_skill_entry(entry: object, where: str) -> None:
    if not isinstance(entry, Mapping) or "time" not in entry or not isinstance(entry.get("ratings"), Mapping):
        raise _BadProgress(f"{where} must be an object with 'time' and 'ratings'")
    _time_from_json(entry["time"], f"{where}.time")
    low, high = RATING_RANGE
    for skill, rating in entry["ratings"].items():
        if not is_rating(rating):
            raise _BadProgress(f"{where}.ratings[{skill!r}] must be an integer in [{low}, {high}], got {rating!r}")


def _check_structure(data: object) -> None:
    """Raise ``_BadProgress`` unless ``data`` is a version-1 progress document."""
    if not isinstance(data, Mapping):
        raise _BadProgress(f"the top level must be an object, got {json_kind(data)}")
    if data.get("version") != PROGRESS_VERSION:
        raise _BadProgress(f"'version' must be {PROGRESS_VERSION}, got {data.get('version')!r}")
    cards = data.get("cards")
    if not isinstance(cards, Mapping):
        raise _BadProgress(f"'cards' must be an object mapping card ids to their state, got {json_kind(cards)}")
    for card_id, entry in cards.items():
        _state_from_json(entry, f"cards[{card_id!r}]")
    skills = data.get("skills", [])
    if not isinstance(skills, list):
        raise _BadProgress(f"'skills' must be a list, got {json_kind(skills)}")
    for index, entry in enumerate(skills):
        _check_skill_entry(entry, f"skills[{index}]")


def _extra(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in _TOP_KEYS}


@dataclass
class Progress:
    """The learner's progress: card states and skill ratings, as stored (entries are kept as plain JSON).

    Entries are parsed on demand, so an entry this session does not touch (an old card id, say) goes back to
    the file exactly as it came.
    """

    cards: dict[str, dict] = field(default_factory=dict)
    skills: list[dict] = field(default_factory=list)
    path: Path | None = None
    notices: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set, repr=False)
    skills_changed: bool = field(default=False, repr=False)

    def state(self, card_id: str, now: datetime | None = None) -> CardState:
        """The card's state; a card never reviewed is in box 0 and due ``now``."""
        if card_id in self.cards:
            state = _state_from_json(self.cards[card_id], f"cards[{card_id!r}]")
            if state.due is not None:
                return state
            box, reviews = state.box, state.reviews
        else:
            box, reviews = 0, ()
        return CardState(box=box, due=as_utc(now) if now is not None else None, reviews=reviews)

    def set_state(self, card_id: str, state: CardState) -> None:
        self.cards[card_id] = state.to_json()
        self.touched.add(card_id)

    @property
    def dirty(self) -> bool:
        """Whether there is something that is not in the file yet."""
        return bool(self.touched) or self.skills_changed

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": PROGRESS_VERSION}
        data.update(_extra(self.extra))
        data["cards"] = {card_id: self.cards[card_id] for card_id in sorted(self.cards)}
        data["skills"] = list(self.skills)
        return data


def progress_path(path: str | os.PathLike | None = None) -> Path:
    """The progress file: ``path`` if given, else ``$CURRICULUM_DRILL_FILE``, else the user data folder."""
    if path is not None:
        return Path(path).expanduser()
    override = os.environ.get(FILE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs  # only needed for the default location

    return Path(platformdirs.user_data_dir(APP_NAME)) / PROGRESS_FILENAME


def _progress_from_json(data: Mapping[str, Any], path: Path | None) -> Progress:
    return Progress(cards={key: dict(value) for key, value in data["cards"].items()},
                    skills=[dict(entry) for entry in data.get("skills", [])], path=path, extra=_extra(data))


def _read_progress(path: Path) -> tuple[dict | None, str | None]:
    """(data, None) for a good file, (None, None) for no file, (None, reason) for a bad one."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as err:
        return None, f"cannot be read ({err.strerror or err})"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"is not valid JSON ({err})"
    try:
        _check_structure(data)
    except _BadProgress as err:
        return None, f"is not a drill progress file ({err})"
    return data, None


def _move_aside(path: Path, reason: str, now: datetime | None) -> str:
    """Rename a bad progress file to ``<name>.corrupt-<UTC stamp>``; return the notice to show."""
    stamp = as_utc(now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while os.path.lexists(aside):  # two bad files in one second: keep both copies
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
        number += 1
    try:
        os.replace(path, aside)
    except OSError as err:
        raise ProgressError(f"progress file {str(path)!r} {reason}, and it could not be moved aside to "
                            f"{str(aside)!r} ({err.strerror or err}). Move or repair it yourself, or choose "
                            f"another file with --file or {FILE_ENV}.") from err
    return (f"Progress file {path} {reason}. It was moved aside to {aside} (nothing was deleted); "
            f"starting with fresh progress.")


def load_progress(path: str | os.PathLike | None = None, *, now: datetime | None = None) -> Progress:
    """Read the progress file (see ``progress_path``); a missing file gives empty progress.

    A file that cannot be read or parsed is moved aside to ``<name>.corrupt-<UTC time of now>`` and a notice
    naming both paths is added to ``Progress.notices``; the returned progress is empty. ``ProgressError`` only
    when the bad file cannot even be moved aside.
    """
    path = progress_path(path)
    data, reason = _read_progress(path)
    if data is not None:
        return _progress_from_json(data, path)
    progress = Progress(path=path)
    if reason is not None:
        progress.notices.append(_move_aside(path, reason, now))
    return progress


def save_progress(progress: Progress, path: str | os.PathLike | None = None, *,
                  now: datetime | None = None) -> Path:
    """Write ``progress`` atomically to ``path`` (default: where it was loaded from, else ``progress_path()``).

    The file on disk is read first and merged: entries this session changed win, every other entry on disk
    (written by another session meanwhile) is kept, skill entries are united. If the file on disk has gone bad
    it is moved aside first (notice in ``progress.notices``). Afterwards ``progress`` holds what was written.
    """
    target = Path(path).expanduser() if path is not None else (progress.path or progress_path())
    on_disk, reason = _read_progress(target)
    if reason is not None:
        progress.notices.append(_move_aside(target, reason, now))
    merged_cards = dict(progress.cards)
    merged_skills = list(progress.skills)
    merged_extra = dict(progress.extra)
    if on_disk is not None:
        merged_cards.update(on_disk["cards"])
        merged_cards.update({card_id: progress.cards[card_id] for card_id in progress.touched
                             if card_id in progress.cards})
        disk_skills = [dict(entry) for entry in on_disk.get("skills", [])]
        merged_skills = disk_skills + [entry for entry in progress.skills if entry not in disk_skills]
        merged_extra = {**_extra(on_disk), **progress.extra}
    merged_skills.sort(key=lambda entry: parse_time(entry["time"]))
    progress.cards, progress.skills, progress.extra = merged_cards, merged_skills, merged_extra
    atomic_write_text(target, json.dumps(progress.to_json(), indent=2, ensure_ascii=False) + "\n")
    progress.path = target
    progress.touched.clear()
    progress.skills_changed = False
    return target


def record_review(progress: Progress, card: Card, grade: str, now: datetime, *, seconds: float = 0.0) -> CardState:
    """Schedule ``card`` after ``grade`` and record the review in ``progress`` (not saved yet)."""
    now = as_utc(now)
    state = review(progress.state(card.id, now), grade, now, seconds=seconds, time_limit_s=card.time_limit_s)
    progress.set_state(card.id, state)
    return state
