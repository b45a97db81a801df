"""Leitner scheduling: pure functions of a card's state, a grade and an injected ``now``.

A card sits in one of five boxes, 0 to 4, with review intervals ``INTERVALS_DAYS = (0, 3, 7, 14, 21)`` days.
A card never reviewed is in box 0 and due now. After each card the candidate grades the answer as an
interviewer would:

- ``"strong"`` (strong hire): up one box, at most box 4 (a card in box 4 stays there); due
  ``now + INTERVALS_DAYS[new box]`` days, so a run of strong answers spaces reviews 3, 7, 14, 21, 21, ... days.
- ``"lean"`` (lean hire): same box, but at least box 1, so the card comes back in 3 days at the earliest;
  due ``now + INTERVALS_DAYS[that box]`` days.
- ``"no"`` (no hire): a miss; back to box 0 and due now (the start).

Every review is recorded (``Review``): time, grade, seconds taken, the time limit and whether the answer ran
over it. ``due_cards`` lists the cards due at ``now`` (due time <= now), ordered by due time, then id;
``session_cards`` is the same choice with the not-yet-due cards allowed and a length limit.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clock import as_utc, format_time
from .deck import Card, Deck, is_whole_in

if TYPE_CHECKING:  # the store builds on this module; only the type is needed here
    from .store import Progress

__all__ = ["INTERVALS_DAYS", "MAX_BOX", "GRADES", "GRADE_LABELS", "Review", "CardState", "check_grade",
           "grade_counts", "next_box", "schedule", "review", "due_cards", "session_cards"]

INTERVALS_DAYS = (0, 3, 7, 14, 21)
MAX_BOX = len(INTERVALS_DAYS) - 1
GRADES = ("strong", "lean", "no")
GRADE_LABELS = {"strong": "strong hire", "lean": "lean hire", "no": "no hire"}


def check_grade(grade: object) -> str:
    """``grade`` itself when it is one of ``GRADES``; a ``ValueError`` naming the valid grades otherwise."""
    if grade not in GRADES:
        raise ValueError(f"grade must be one of {', '.join(map(repr, GRADES))}; got {grade!r}")
    return grade  # type: ignore[return-value]


def grade_counts(graded: Sequence[tuple[str, str]]) -> dict[str, int]:
    """How many of the (card id, grade) pairs of a session got each grade, in ``GRADES`` order."""
    return {grade: sum(1 for _, given in graded if given == grade) for grade in GRADES}


def is_box(box: object) -> bool:
    return is_whole_in(box, 0, MAX_BOX)


def is_seconds(seconds: object) -> bool:
    """A time taken: a non-negative int or float (``not >= 0`` also refuses NaN)."""
    return not isinstance(seconds, bool) and isinstance(seconds, (int, float)) and seconds >= 0


@dataclass(frozen=True)
class Review:
    """One answer: when, the self-grade, seconds taken, the card's time limit and whether it ran over."""

    time: datetime
    grade: str
    seconds: float
    over_limit: bool
    time_limit_s: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"time": format_time(self.time), "grade": self.grade,
                                "seconds": round(float(self.seconds), 1)}
        if self.time_limit_s is not None:
            data["time_limit_s"] = self.time_limit_s
        data["over_limit"] = self.over_limit
        return data


@dataclass(frozen=True)
class CardState:
    """Where a card stands: its box (0-4), when it is due, and its reviews (oldest first)."""

    box: int = 0
    due: datetime | None = None
    reviews: tuple[Review, ...] = ()

    @property
    def is_new(self) -> bool:
        return not self.reviews

    def to_json(self) -> dict[str, Any]:
        return {"box": self.box, "due": format_time(self.due) if self.due else None,
                "reviews": [item.to_json() for item in self.reviews]}


def next_box(box: int, grade: str) -> int:
    """strong: up one (at most ``MAX_BOX``); lean: same box but at least 1; no: back to 0."""
    check_grade(grade)
    if not is_box(box):
        raise ValueError(f"box must be an integer in [0, {MAX_BOX}], got {box!r}")
    if grade == "strong":
        return min(box + 1, MAX_BOX)
    if grade == "lean":
        return max(box, 1)
    return 0


def schedule(state: CardState, grade: str, now: datetime) -> CardState:
    """The new box and due time after ``grade`` at ``now`` (reviews unchanged): due = now + interval of the box."""
    now = as_utc(now)
    box = next_box(state.box, grade)
    return CardState(box=box, due=now + timedelta(days=INTERVALS_DAYS[box]), reviews=state.reviews)


def review(state: CardState, grade: str, now: datetime, *, seconds: float = 0.0,
           time_limit_s: int | None = None) -> CardState:
    """``schedule`` plus the review record (``over_limit`` when ``seconds > time_limit_s``)."""
    if not is_seconds(seconds):
        raise ValueError(f"seconds must be a non-negative number, got {seconds!r}")
    now = as_utc(now)
    over = time_limit_s is not None and seconds > time_limit_s
    moved = schedule(state, grade, now)
    record = Review(time=now, grade=grade, seconds=float(seconds), over_limit=over, time_limit_s=time_limit_s)
    return CardState(box=moved.box, due=moved.due, reviews=state.reviews + (record,))


def due_cards(deck: Deck | Iterable[Card], progress: Progress, now: datetime, topic: str | None = None) -> list[Card]:
    """Cards due at ``now`` (new cards included), ordered by due time, then id."""
    return session_cards(deck, progress, now, topic=topic, due_only=True)


def session_cards(deck: Deck | Iterable[Card], progress: Progress, now: datetime, *, topic: str | None = None,
                  due_only: bool = False, limit: int | None = None) -> list[Card]:
    """The cards of a session: all (or only the due) cards of the deck or topic, by due time then id."""
    now = as_utc(now)
    if topic is not None:
        if not isinstance(deck, Deck):
            raise TypeError("topic needs a Deck, got a plain list of cards")
        cards: Iterable[Card] = deck.by_topic(topic)
    else:
        cards = deck
    keyed = sorted(((progress.state(card.id, now).due, card.id, card) for card in cards), key=lambda k: k[:2])
    chosen = [card for due, _, card in keyed if not due_only or due <= now]
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        chosen = chosen[:limit]
    return chosen
