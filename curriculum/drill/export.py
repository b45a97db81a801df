"""Exporting the deck to study elsewhere: a CSV table and an Anki package (``.apkg``) for a phone.

``export_csv`` writes one row per card with every field of the card file (``CSV_FIELDS``: the rubric in its
three columns, the red flags one per line in their cell), UTF-8, with a header row. ``export_anki`` builds an
Anki package with ``genanki``: one note per card (front: the prompt with topic, section and time limit; back:
the model answer, the rubric and the red flags), Markdown turned into HTML by ``markdown-it-py`` and maths
kept as LaTeX between ``\\(...\\)`` / ``\\[...\\]``, which Anki typesets with MathJax. A note's id for Anki (its
guid) comes from the card id, and the model and deck ids are fixed, so importing a newer export updates the
notes already on the phone, with their review history, instead of adding copies. ``export_deck`` picks the
format from the file name's suffix. Both write atomically.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from ..io import atomic_write_text
from ..syllabus import notebook_name
from .clock import clock_text, current_time
from .deck import Card, Deck
from .mathtext import math_spans

__all__ = ["CSV_FIELDS", "ANKI_MODEL_ID", "anki_guid", "export_csv", "export_anki", "export_deck"]

CSV_FIELDS = ("id", "topic", "topic_title", "notebook", "section", "time_limit_s", "prompt", "answer",
              "rubric_strong_hire", "rubric_lean_hire", "rubric_no_hire", "red_flags")
ANKI_MODEL_ID = 1_738_452_913  # fixed forever: Anki recognises the note type by it
ANKI_DECK_NAME = "Generative models interview drill"
_GUID_NAMESPACE = "genmodels-curriculum drill"
_ANKI_FIELDS = ("Id", "Topic", "Section", "TimeLimit", "Prompt", "Answer", "Rubric", "RedFlags")
_CSS = """.card { font-family: sans-serif; font-size: 18px; text-align: left; line-height: 1.4; }
.meta { color: #666; font-size: 14px; margin-bottom: 0.6em; }
h4 { margin: 1em 0 0.3em; }"""


def _cards(deck: Deck, cards: Iterable[Card] | None) -> list[Card]:
    return list(deck.cards if cards is None else cards)


def export_csv(deck: Deck, path: str | os.PathLike, cards: Iterable[Card] | None = None) -> Path:
    """One row per card (``CSV_FIELDS``), UTF-8 with a header; returns the path written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for card in _cards(deck, cards):
        title = deck.title(card.topic) if card.topic in deck.topics else card.topic
        writer.writerow([card.id, card.topic, title, notebook_name(card.topic), card.section, card.time_limit_s,
                         card.prompt, card.answer, card.rubric.strong_hire, card.rubric.lean_hire,
                         card.rubric.no_hire, "\n".join(card.red_flags)])
    return atomic_write_text(path, buffer.getvalue())


def _html(text: str) -> str:
    """Markdown to HTML with the maths kept as LaTeX for MathJax (markdown must not touch its _ and *)."""
    from markdown_it import MarkdownIt

    keep: list[str] = []
    pieces, position = [], 0
    for start, end, latex, display in math_spans(text):
        keep.append((r"\[" if display else r"\(") + html.escape(latex, quote=False) + (r"\]" if display else r"\)"))
        pieces += [text[position:start], f"MATHSPAN{len(keep) - 1}END"]
        position = end
    pieces.append(text[position:])
    rendered = MarkdownIt("commonmark").render("".join(pieces)).strip()
    for number, maths in enumerate(keep):
        rendered = rendered.replace(f"MATHSPAN{number}END", maths)
    return rendered


def anki_guid(card_id: str) -> str:
    """The Anki note guid of a card: the same for the same card id in every export."""
    import genanki

    return genanki.guid_for(_GUID_NAMESPACE, card_id)


def _deck_id(topic: str) -> int:
    digest = int(hashlib.sha256(f"{_GUID_NAMESPACE}:{topic}".encode()).hexdigest()[:12], 16)
    return (1 << 30) + digest % (1 << 30)


def export_anki(deck: Deck, path: str | os.PathLike, cards: Iterable[Card] | None = None, *,
                now: datetime | None = None) -> Path:
    """An Anki package with one note per card, a sub-deck per topic; returns the path written."""
    import genanki

    model = genanki.Model(
        ANKI_MODEL_ID, "Interview drill card", fields=[{"name": name} for name in _ANKI_FIELDS],
        templates=[{"name": "Prompt to answer",
                    "qfmt": '<div class="meta">{{Topic}} · {{Section}} · time limit {{TimeLimit}}</div>{{Prompt}}',
                    "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}<h4>Rubric</h4>{{Rubric}}'
                            "<h4>Red flags (sentences that lose the room)</h4>{{RedFlags}}"}],
        css=_CSS)
    decks: dict[str, genanki.Deck] = {}
    for card in _cards(deck, cards):
        title = deck.title(card.topic) if card.topic in deck.topics else card.topic
        if card.topic not in decks:
            decks[card.topic] = genanki.Deck(_deck_id(card.topic), f"{ANKI_DECK_NAME}::{title}")
        rubric = card.rubric
        levels = (f"- **Strong hire:** {rubric.strong_hire}\n- **Lean hire:** {rubric.lean_hire}\n"
                  f"- **No hire:** {rubric.no_hire}")
        flags = "\n".join(f"- {flag}" for flag in card.red_flags)
        fields = [html.escape(card.id), html.escape(title), html.escape(card.section),
                  clock_text(card.time_limit_s), _html(card.prompt), _html(card.answer), _html(levels), _html(flags)]
        tags = [card.topic, card.section.replace(" ", "_")]
        decks[card.topic].add_note(genanki.Note(model=model, fields=fields, guid=anki_guid(card.id), tags=tags))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        moment = (now or current_time()).timestamp()
        genanki.Package(list(decks.values())).write_to_file(temporary, timestamp=moment)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # what a plain open() would have given, not mkstemp's 0600
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def export_deck(deck: Deck, path: str | os.PathLike, cards: Iterable[Card] | None = None, *,
                now: datetime | None = None) -> Path:
    """``.csv`` or ``.apkg`` by the suffix of ``path``; ``ValueError`` for any other."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return export_csv(deck, path, cards)
    if suffix == ".apkg":
        return export_anki(deck, path, cards, now=now)
    raise ValueError(f"the export file must end in .csv or .apkg, got {str(path)!r}")
