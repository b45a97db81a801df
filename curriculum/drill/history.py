"""Undo the last grade, and reset a topic: changes that apply to the progress in memory and, at the next save,
again to the file on disk (so another session's reviews meanwhile are kept).

- ``undo_last`` removes the most recent review in the file (any card) and puts the card back where it was
  before it: the box and due day the review recorded in ``before``. For a review written by an older version
  (no ``before``) the box is replayed from the grades that remain. If another session has reviewed the same
  card since, only the review itself goes and the card stays where that later review put it.
- ``reset_topic`` starts a topic over: its cards' entries leave ``cards`` (they become new cards, due today)
  and are kept, with the time and topic, in the file's ``archived`` list, so nothing is deleted.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .clock import format_time, parse_time
from .deck import Deck
from .scheduling import INTERVALS_DAYS, Review, next_box
from .store import Progress

__all__ = ["last_review", "undo_last", "reset_topic"]


def last_review(progress: Progress, now: datetime | None = None) -> tuple[str, Review] | None:
    """(card id, review) of the most recent review in the progress, or None when there is none.

    Reviews are stored to the second; among reviews in the same second, the one the file names as the last
    graded (``last_review``) wins, then the largest card id.
    """
    pointer = progress.extra.get("last_review")
    pointer = pointer if isinstance(pointer, dict) else {}
    best: tuple[tuple[datetime, bool, str], str, Review] | None = None
    for card_id in progress.cards:
        reviews = progress.state(card_id, now).reviews
        if reviews:
            latest = max(reviews, key=lambda item: item.time)
            named = pointer.get("card") == card_id and pointer.get("time") == format_time(latest.time)
            key = (latest.time, named, card_id)
            if best is None or key > best[0]:
                best = (key, card_id, latest)
    return (best[1], best[2]) if best else None


def _undo(progress: Progress, card_id: str, time_text: str, grade: str) -> None:
    entry = progress.cards.get(card_id)
    if not entry:
        return
    reviews = list(entry.get("reviews", []))
    moment = parse_time(time_text)
    matches = [i for i, item in enumerate(reviews) if parse_time(item["time"]) == moment and item["grade"] == grade]
    if not matches:  # already undone (by this session's earlier save, or another session)
        return
    removed = reviews.pop(matches[-1])
    if progress.extra.get("last_review") == {"card": card_id, "time": time_text}:
        del progress.extra["last_review"]
    if any(parse_time(item["time"]) > moment for item in reviews):  # a later review decides where the card is
        progress.cards[card_id] = {**entry, "reviews": reviews}
        return
    before = removed.get("before")
    if before is not None:
        box, due = before["box"], before.get("due")
    else:  # written before reviews kept their "before": replay the remaining grades
        box = 0
        for item in reviews:
            box = next_box(box, item["grade"])
        last = max((parse_time(item["time"]) for item in reviews), default=None)
        due = (last.date() + timedelta(days=INTERVALS_DAYS[box])).isoformat() if last else None
    if not reviews and due is None:
        del progress.cards[card_id]  # back to a card never reviewed
        return
    progress.cards[card_id] = {**entry, "box": box, "due": due, "reviews": reviews}


def undo_last(progress: Progress, now: datetime | None = None) -> tuple[str, Review] | None:
    """Undo the most recent grade (not saved yet); returns what was undone, or None when nothing was graded."""
    found = last_review(progress, now)
    if found is not None:
        card_id, item = found
        progress.change(_undo, card_id, format_time(item.time), item.grade)
    return found


def _reset(progress: Progress, topic: str, card_ids: tuple[str, ...], time_text: str) -> None:
    moved = {card_id: progress.cards.pop(card_id) for card_id in card_ids if card_id in progress.cards}
    if moved:
        progress.extra.setdefault("archived", []).append({"time": time_text, "topic": topic, "cards": moved})


def reset_topic(progress: Progress, deck: Deck, topic: str, now: datetime) -> list[str]:
    """Start ``topic`` over (not saved yet): the ids of the cards whose progress was archived.

    Entries of the topic's removed or renamed cards (ids starting ``<topic>-``) go too.
    """
    deck.topic(topic)  # a clear error for an unknown topic
    wanted = {card.id for card in deck.by_topic(topic)}
    card_ids = tuple(sorted(card_id for card_id in progress.cards
                            if card_id in wanted or card_id.startswith(f"{topic}-")))
    if card_ids:
        progress.change(_reset, topic, card_ids, format_time(now))
    return list(card_ids)
