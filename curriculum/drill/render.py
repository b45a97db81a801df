"""Cards as Markdown for the notebooks: the prompt in view, the answer folded away.

``render_cards(topic)`` renders a topic's cards, each with its id, section and time limit, the prompt as a
quote, and the model answer, rubric and red flags inside a ``<details>`` fold, so that a reader answers before
looking. The output is ``IPython.display.Markdown`` (its text is ``.data``) and holds no timestamps, so a
notebook re-run does not change it. ``folded_markdown(card)`` is the folded part alone; the widget shows it at
reveal.
"""
from __future__ import annotations

from .deck import Card, Deck, load_deck

__all__ = ["render_cards", "folded_markdown"]


class _MarkdownText:
    """Fallback when IPython is missing: anything with ``_repr_markdown_`` renders in Jupyter."""

    def __init__(self, data: str):
        self.data = data

    def _repr_markdown_(self) -> str:
        return self.data

    def __repr__(self) -> str:
        return self.data


def _markdown(text: str):
    try:
        from IPython.display import Markdown  # imported on use: the terminal drill never needs IPython
    except ImportError:  # pragma: no cover - IPython ships with the course environment
        return _MarkdownText(text)
    return Markdown(text)


def _limit_words(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" + (f" {rest} s" if rest else "")


def folded_markdown(card: Card) -> str:
    """Model answer, rubric and red flags as Markdown (blank lines keep it rendering inside <details>)."""
    rubric = card.rubric
    flags = "\n".join(f"- {flag}" for flag in card.red_flags)
    return (f"**Model answer**\n\n{card.answer}\n\n**Rubric**\n\n- **Strong hire:** {rubric.strong_hire}\n"
            f"- **Lean hire:** {rubric.lean_hire}\n- **No hire:** {rubric.no_hire}\n\n"
            f"**Red flags** (sentences that lose the room)\n\n{flags}")


def render_cards(topic: str, deck: Deck | None = None):
    """A topic's cards as Markdown: prompt, time limit and section; answer, rubric and red flags folded away.

    Returns ``IPython.display.Markdown`` (its text is ``.data``); the output has no timestamps.
    """
    deck = load_deck() if deck is None else deck
    entry = deck.topic(topic)
    total = len(entry.cards)
    parts = [f"**Interview drill: {entry.title}** ({total} card{'s' if total != 1 else ''}). Answer each prompt "
             f"out loud or on paper within its time limit, then open the fold and grade yourself against the "
             f"rubric. Spaced repetition in a terminal: `python -m curriculum drill --topic {topic}`."]
    for number, card in enumerate(entry.cards, start=1):
        quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in card.prompt.splitlines())
        parts.append(f"---\n\n**Card {number} of {total}** · `{card.id}` · section: {card.section} · "
                     f"time limit: {_limit_words(card.time_limit_s)}\n\n{quoted}\n\n"
                     f"<details>\n<summary>Model answer, rubric and red flags</summary>\n\n"
                     f"{folded_markdown(card)}\n\n</details>")
    return _markdown("\n\n".join(parts) + "\n")
