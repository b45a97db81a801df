"""Leitner scheduling: pure functions of a card's state, a grade and an injected ``now``.

A card sits in one of five boxes, 0 to 4, with review intervals ``INTERVALS_DAYS = (0, 3, 7, 14, 21)`` days.
Review dates are *calendar days in the learner's time zone* (the zone of ``now``; see ``clock``): a card due
on 2025-01-04 is due from the first minute of that day wherever the learner is, not from the hour of the last
review. A card never reviewed is in box 0 and due today. After each card the candidate grades the answer as an
interviewer would:

- ``"strong"`` (strong hire): up one box, at most box 4 (a card in box 4 stays there); due
  ``today + INTERVALS_DAYS[new box]`` days, so a run of strong answers spaces reviews 3, 7, 14, 21, 21, ... days.
- ``"lean"`` (lean hire): same box, but at least box 1, so the card comes back in 3 days at the earliest;
  due ``today + INTERVALS_DAYS[that box]`` days.
- ``"no"`` (no hire): a miss; back to box 0 and due today (a terminal session asks it again before it ends).

Every review is recorded (``Review``): time, grade, seconds taken, the time limit, whether the answer ran over
it, and the box and due date before it (so a grade can be undone). ``due_cards`` lists the cards due today
(due date <= today), ordered by due date, then id; ``session_cards`` is the same choice with the not-yet-due
cards allowed and a length limit; ``daily_allowance`` applies the ``--due`` daily cap.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clock import as_utc, format_time, local_date
from .deck import Card, Deck, is_whole_in

if TYPE_CHECKING:  # the store builds on this module; only the type is needed here
    from .store import Progress

__all__ = ["INTERVALS_DAYS", "MAX_BOX", "GRADES", "GRADE_LABELS", "DAILY_CAP", "Review", "CardState",
           "check_grade", "grade_counts", "next_box", "schedule", "review", "due_cards", "session_cards",
           "reviewed_today", "daily_allowance"]

INTERVALS_DAYS = (0, 3, 7, 14, 21)
DAILY_CAP = 20  # the most cards a --due session shows per calendar day, unless --daily-cap says otherwise
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
    """One answer: when, the self-grade, seconds taken, the card's time limit and whether it ran over.

    ``before`` is the card's stored ``{"box": ..., "due": ...}`` just before this review (``due`` null for a
    card never reviewed), which is what undoing the grade restores; reviews written by older versions lack it.
    """

    time: datetime
    grade: str
    seconds: float
    over_limit: bool
    time_limit_s: int | None = None
    before: dict | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"time": format_time(self.time), "grade": self.grade,
                                "seconds": round(float(self.seconds), 1)}
        if self.time_limit_s is not None:
            data["time_limit_s"] = self.time_limit_s
        data["over_limit"] = self.over_limit
        if self.before is not None:
            data["before"] = dict(self.before)
        return data


@dataclass(frozen=True)
class CardState:
    """Where a card stands: its box (0-4), the calendar day it is due, and its reviews (oldest first)."""

    box: int = 0
    due: date | None = None
    reviews: tuple[Review, ...] = ()

    @property
    def is_new(self) -> bool:
        return not self.reviews

    def to_json(self) -> dict[str, Any]:
        return {"box": self.box, "due": self.due.isoformat() if self.due else None,
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
    """The new box and due day after ``grade`` at ``now`` (reviews unchanged): due = today + the box's interval,
    today being ``now``'s calendar day in ``now``'s own zone."""
    box = next_box(state.box, grade)
    return CardState(box=box, due=local_date(now) + timedelta(days=INTERVALS_DAYS[box]), reviews=state.reviews)


def review(state: CardState, grade: str, now: datetime, *, seconds: float = 0.0,
           time_limit_s: int | None = None, before: dict | None = None) -> CardState:
    """``schedule`` plus the review record (``over_limit`` when ``seconds > time_limit_s``; ``before`` as in
    ``Review``). Reviews stay in time order."""
    if not is_seconds(seconds):
        raise ValueError(f"seconds must be a non-negative number, got {seconds!r}")
    moved = schedule(state, grade, now)
    over = time_limit_s is not None and seconds > time_limit_s
    record = Review(time=as_utc(now), grade=grade, seconds=float(seconds), over_limit=over,
                    time_limit_s=time_limit_s, before=before)
    reviews = tuple(sorted(state.reviews + (record,), key=lambda item: item.time))
    return CardState(box=moved.box, due=moved.due, reviews=reviews)


def due_cards(deck: Deck | Iterable[Card], progress: Progress, now: datetime, topic: str | None = None) -> list[Card]:
    """Cards due today (new cards included), ordered by due day, then id."""
    return session_cards(deck, progress, now, topic=topic, due_only=True)


def session_cards(deck: Deck | Iterable[Card], progress: Progress, now: datetime, *, topic: str | None = None,
                  due_only: bool = False, limit: int | None = None) -> list[Card]:
    """The cards of a session: all (or only the due) cards of the deck or topic, by due day then id."""
    today = local_date(now)
    if topic is not None:
        if not isinstance(deck, Deck):
            raise TypeError("topic needs a Deck, got a plain list of cards")
        cards: Iterable[Card] = deck.by_topic(topic)
    else:
        cards = deck
    keyed = sorted(((progress.state(card.id, now).due, card.id, card) for card in cards), key=lambda k: k[:2])
    chosen = [card for due, _, card in keyed if not due_only or due <= today]
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        chosen = chosen[:limit]
    return chosen


def reviewed_today(progress: Progress, now: datetime) -> set[str]:
    """Ids of the cards with a review on ``now``'s calendar day (in ``now``'s zone)."""
    today = local_date(now)
    return {card_id for card_id in progress.cards
            if any(local_date(item.time, now) == today for item in progress.state(card_id, now).reviews)}


def daily_allowance(cards: Sequence[Card], progress: Progress, now: datetime,
                    cap: int = DAILY_CAP) -> tuple[list[Card], list[Card], int]:
    """Apply the daily cap to a due list: (cards for now, cards that wait for tomorrow, cards done today).

    Each card reviewed today counts once against the cap, so a second ``--due`` run the same day shows only
    what is left of it; a card already reviewed today and due again (a miss) does not count twice.
    """
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ValueError(f"cap must be a positive integer, got {cap!r}")
    done = reviewed_today(progress, now)
    room = max(cap - len(done), 0)
    again = [card for card in cards if card.id in done]
    fresh = [card for card in cards if card.id not in done]
    allowed = {card.id for card in again} | {card.id for card in fresh[:room]}
    return ([card for card in cards if card.id in allowed], [card for card in cards if card.id not in allowed],
            len(done))
