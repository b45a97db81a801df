"""Finding cards: ``search_cards`` by keywords, ``format_card_list`` for ``--search`` and ``--list``.

A card matches a query when every word of it occurs (ignoring case) somewhere in the card: its id, prompt,
section, topic title, model answer, rubric or red flags. Matches are ranked by where the words occur (id and
prompt first, then section and title, then the rest), ties in deck order. The list shows each card's id,
where it stands (new, or its box and due day), its time limit and section, then the start of its prompt (maths
as Unicode) cut to the width.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from .clock import clock_text, local_date
from .deck import Card, Deck
from .mathtext import latex_to_unicode, math_spans
from .store import Progress

__all__ = ["search_cards", "format_card_list", "plain_text"]

_WEIGHTS = (("id", 4), ("prompt", 3), ("section", 2), ("title", 2), ("answer", 1), ("rubric", 1), ("flags", 1))


def _fields(card: Card, deck: Deck) -> dict[str, str]:
    title = deck.title(card.topic) if card.topic in deck.topics else card.topic
    rubric = card.rubric
    return {"id": card.id, "prompt": card.prompt, "section": card.section, "title": f"{card.topic} {title}",
            "answer": card.answer, "rubric": f"{rubric.strong_hire} {rubric.lean_hire} {rubric.no_hire}",
            "flags": " ".join(card.red_flags)}


def search_cards(deck: Deck, query: str, topic: str | None = None) -> list[Card]:
    """The cards (of ``topic``, if given) holding every word of ``query``, best matches first."""
    words = [word.lower() for word in query.split()]
    if not words:
        raise ValueError("the search needs at least one word")
    cards = deck.by_topic(topic) if topic is not None else deck.cards
    scored = []
    for position, card in enumerate(cards):
        fields = {name: text.lower() for name, text in _fields(card, deck).items()}
        if not all(any(word in text for text in fields.values()) for word in words):
            continue
        score = sum(weight for word in words for name, weight in _WEIGHTS if word in fields[name])
        scored.append((-score, position, card))
    return [card for _, _, card in sorted(scored, key=lambda item: item[:2])]


def plain_text(text: str) -> str:
    """One line of a card's Markdown for a list: maths as Unicode, emphasis marks dropped, spaces collapsed."""
    pieces, position = [], 0
    for start, end, latex, _ in math_spans(text):
        pieces += [text[position:start], latex_to_unicode(latex)]
        position = end
    pieces.append(text[position:])
    return " ".join(re.sub(r"\*\*|__|`", "", "".join(pieces)).split())


def _cut(text: str, width: int) -> str:
    from rich.cells import cell_len, set_cell_size  # terminal cells, so wide characters count right

    return text if cell_len(text) <= width else set_cell_size(text, width - 1).rstrip() + "…"


def format_card_list(cards: Iterable[Card], deck: Deck, progress: Progress, now: datetime, width: int = 80) -> str:
    """Two lines a card: id with state, time limit and section; then the prompt's start."""
    today = local_date(now)
    lines = []
    for card in cards:
        state = progress.state(card.id, now)
        if state.is_new:
            where = "new"
        else:
            where = f"box {state.box}, due {'today' if state.due <= today else f'{state.due:%Y-%m-%d}'}"
        lines.append(_cut(f"{card.id}  ({where} · {clock_text(card.time_limit_s)} · {card.section})", width))
        lines.append(_cut(f"    {plain_text(card.prompt)}", width))
    return "\n".join(lines)
