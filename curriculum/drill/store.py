"""The progress file: where it lives, how it is read, and how sessions save into it without losing each other's work.

One JSON file (its structure: ``records``), ``platformdirs.user_data_dir("genmodels-curriculum")/
drill_progress.json`` unless the environment variable ``CURRICULUM_DRILL_FILE`` (``FILE_ENV``, a file path) or
an explicit path says otherwise.

Saving. A session never writes back its whole view of the file. Each change is an operation (a review, skill
ratings, an undo, a topic reset, the plan's start date, a mock interview) applied at once to the progress in
memory and kept as pending. ``save_progress`` takes the save lock (``access.progress_lock``), re-reads the file,
applies the pending operations to what is on disk, writes the result atomically (``curriculum.io``: a kill
mid-write leaves the previous file) and releases the lock. So two sessions at once, even on the same cards,
keep every review: a review is added to the card's history as it is on disk, and the box moves from there.

Reading. A missing file is empty progress. A file that cannot be parsed (bad JSON, wrong structure, another
version) is never overwritten or deleted: it is moved aside to ``<name>.corrupt-<UTC timestamp>``, a notice
naming both paths is kept in ``Progress.notices``, and progress starts fresh. A file this user may not read is
*not* corrupt: ``UnreadableProgressFile`` is raised and nothing is moved. Temporary files left by killed saves
are removed when progress is loaded. Entries for card ids that are not in the deck are kept and ignored.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..io import atomic_write_text
from .access import (FILE_ENV, ProgressError, is_read_only, move_aside, progress_lock, read_only_file,
                     remove_orphans, unreadable)
from .clock import format_time, local_date, parse_day, parse_time
from .deck import Card
from .records import PROGRESS_VERSION, BadProgress, check_structure, extra_keys, state_from_json
from .scheduling import CardState, check_grade, review

__all__ = ["FILE_ENV", "Progress", "ProgressError", "progress_path", "load_progress", "save_progress",
           "record_review"]

APP_NAME = "genmodels-curriculum"
PROGRESS_FILENAME = "drill_progress.json"


# ---------------------------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class _Review:
    card_id: str
    grade: str
    now: datetime
    seconds: float
    time_limit_s: int | None

    def apply(self, progress: Progress) -> None:
        raw = progress.cards.get(self.card_id)
        before = {"box": raw.get("box", 0), "due": raw.get("due")} if raw else {"box": 0, "due": None}
        state = review(progress.state(self.card_id, self.now), self.grade, self.now, seconds=self.seconds,
                       time_limit_s=self.time_limit_s, before=before)
        progress.cards[self.card_id] = {**(raw or {}), **state.to_json()}
        progress.extra["last_review"] = {"card": self.card_id, "time": format_time(self.now)}  # for undo


@dataclass(frozen=True)
class _SetState:
    card_id: str
    data: dict

    def apply(self, progress: Progress) -> None:
        progress.cards[self.card_id] = dict(self.data)


@dataclass(frozen=True)
class _Skills:
    entry: dict

    def apply(self, progress: Progress) -> None:
        if self.entry not in progress.skills:
            progress.skills.append(dict(self.entry))
            progress.skills.sort(key=lambda item: parse_time(item["time"]))


@dataclass(frozen=True)
class _Append:
    """Add an entry to a top-level list (``mocks``, ``archived``) once."""

    key: str
    entry: dict

    def apply(self, progress: Progress) -> None:
        entries = progress.extra.setdefault(self.key, [])
        if self.entry not in entries:
            entries.append(self.entry)


@dataclass(frozen=True)
class _Start:
    day: str
    replace: bool

    def apply(self, progress: Progress) -> None:
        if self.replace or progress.extra.get("start_date") is None:
            progress.extra["start_date"] = self.day


@dataclass(frozen=True)
class _Custom:
    """An operation defined elsewhere (undo and reset in ``history``): ``function(progress, *args)``."""

    function: Any
    args: tuple

    def apply(self, progress: Progress) -> None:
        self.function(progress, *self.args)


# ---------------------------------------------------------------------------------------------- progress


@dataclass
class Progress:
    """The learner's progress as stored (entries are kept as plain JSON) plus this session's pending changes.

    Entries are parsed on demand, so an entry this session does not touch (an old card id, say) goes back to
    the file exactly as it came. ``extra`` holds the other top-level keys (``start_date``, ``mocks``, ...).
    """

    cards: dict[str, dict] = field(default_factory=dict)
    skills: list[dict] = field(default_factory=list)
    path: Path | None = None
    notices: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    pending: list[Any] = field(default_factory=list, repr=False)

    def state(self, card_id: str, now: datetime | None = None) -> CardState:
        """The card's state; a card never reviewed is in box 0 and due today (``now``'s day)."""
        if card_id in self.cards:
            state = state_from_json(self.cards[card_id], f"cards[{card_id!r}]", now)
            if state.due is not None:
                return state
            box, reviews = state.box, state.reviews
        else:
            box, reviews = 0, ()
        return CardState(box=box, due=local_date(now) if now is not None else None, reviews=reviews)

    def apply(self, operation: Any) -> None:
        """Apply a change now and keep it for the next save (which re-applies it to the file on disk)."""
        operation.apply(self)
        self.pending.append(operation)

    def set_state(self, card_id: str, state: CardState) -> None:
        self.apply(_SetState(card_id, state.to_json()))

    def add_skills(self, entry: dict) -> None:
        self.apply(_Skills(dict(entry)))

    def add_entry(self, key: str, entry: dict) -> None:
        """Append ``entry`` to the top-level list ``key`` (``"mocks"``, ``"archived"``)."""
        self.apply(_Append(key, entry))

    def change(self, function: Any, *args: Any) -> None:
        """Apply ``function(progress, *args)`` now and again to the file's content at the next save."""
        self.apply(_Custom(function, args))

    def set_start(self, day: date, *, replace: bool = True) -> None:
        """The study plan's day 0 (``replace=False``: only when none is set yet)."""
        self.apply(_Start(day.isoformat(), replace))

    @property
    def start_date(self) -> date | None:
        text = self.extra.get("start_date")
        return parse_day(text) if text else None

    @property
    def mocks(self) -> list[dict]:
        return list(self.extra.get("mocks", []))

    @property
    def dirty(self) -> bool:
        """Whether there is something that is not in the file yet."""
        return bool(self.pending)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"version": PROGRESS_VERSION}
        data.update(extra_keys(self.extra))
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
                    skills=[dict(entry) for entry in data.get("skills", [])], path=path,
                    extra=json.loads(json.dumps(extra_keys(data))))


def _read_progress(path: Path) -> tuple[dict | None, str | None]:
    """(data, None) for a good file, (None, None) for no file, (None, reason) for a bad one.
    ``UnreadableProgressFile`` when the file may not be read (a permission problem is not corruption)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except PermissionError:
        raise unreadable(path) from None
    except OSError as err:
        return None, f"cannot be read ({err.strerror or err})"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"is not valid JSON ({err})"
    try:
        check_structure(data)
    except BadProgress as err:
        return None, f"is not a drill progress file ({err})"
    return data, None


def _size_text(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


def load_progress(path: str | os.PathLike | None = None, *, now: datetime | None = None) -> Progress:
    """Read the progress file (see ``progress_path``); a missing file gives empty progress.

    A file that cannot be parsed is moved aside to ``<name>.corrupt-<UTC time of now>`` and a notice naming both
    paths is added to ``Progress.notices``; the returned progress is empty. ``UnreadableProgressFile`` when the
    user may not read the file (nothing is moved); ``ProgressError`` when a bad file cannot be moved aside.
    Temporary files that killed saves left beside the file are removed (with a notice).
    """
    path = progress_path(path)
    data, reason = _read_progress(path)
    progress = _progress_from_json(data, path) if data is not None else Progress(path=path)
    if reason is not None:
        progress.notices.append(move_aside(path, reason, now))
    removed, freed = remove_orphans(path)
    if removed:
        progress.notices.append(f"Removed {removed} temporary file(s) ({_size_text(freed)}) that interrupted "
                                f"saves had left beside {path}; the progress file itself was not affected.")
    return progress


def save_progress(progress: Progress, path: str | os.PathLike | None = None, *,
                  now: datetime | None = None) -> Path:
    """Save ``progress``'s pending changes into ``path`` (default: where it was loaded from, else
    ``progress_path()``), under the save lock: re-read the file, apply the changes to it, write it atomically.

    A file on disk that has gone bad is moved aside first (notice in ``progress.notices``) and the session's
    whole view is written. A read-only file is never replaced (``ReadOnlyProgressFile``). Afterwards
    ``progress`` holds what was written and has nothing pending.
    """
    target = Path(path).expanduser() if path is not None else (progress.path or progress_path())
    with progress_lock(target):
        if target.is_file() and is_read_only(target):
            raise read_only_file(target)
        on_disk, reason = _read_progress(target)
        if reason is not None:
            progress.notices.append(move_aside(target, reason, now))
        if on_disk is not None:
            merged = _progress_from_json(on_disk, target)
            for operation in progress.pending:
                operation.apply(merged)
        else:  # no file (or a bad one moved aside): everything this session knows is what there is
            merged = progress
        text = json.dumps(merged.to_json(), indent=2, ensure_ascii=False) + "\n"
        atomic_write_text(target, text)
    progress.cards, progress.skills, progress.extra = merged.cards, merged.skills, merged.extra
    progress.path = target
    progress.pending.clear()
    return target


def record_review(progress: Progress, card: Card, grade: str, now: datetime, *, seconds: float = 0.0,
                  time_limit_s: int | None = None) -> CardState:
    """Schedule ``card`` after ``grade`` and record the review in ``progress`` (not saved yet).

    ``time_limit_s`` defaults to the card's own (a mock interview passes its own limit). The first review
    also fixes the study plan's start date (day 0) when none is set.
    """
    check_grade(grade)
    if progress.start_date is None:
        progress.set_start(local_date(now), replace=False)
    limit = card.time_limit_s if time_limit_s is None else time_limit_s
    progress.apply(_Review(card.id, grade, now, seconds, limit))
    return progress.state(card.id, now)
