"""The drill as an ipywidgets app in a notebook: ``drill_widget(topic)``, put last in a cell.

The app shows one card at a time: a header (card number, id, topic, section, time limit), the prompt, a
countdown ticking in a background thread, and a "Reveal answer" button. Reveal stops the clock and shows the
model answer, rubric and red flags with three grade buttons; a grade schedules the card, saves the same
progress file as the terminal command, and moves to the next card. A summary follows the last card. The
buttons call ``reveal()`` and ``grade(g)``, which tests may call directly; ``ipywidgets`` is imported only
when a widget is built. A progress file that cannot be saved (a read-only file or folder) is reported instead
of the first card.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .access import ProgressPermissionError, check_writable
from .clock import clock_text, current_time, left_text, when_text
from .deck import Card, Deck, load_deck
from .render import folded_markdown
from .scheduling import GRADE_LABELS, CardState, check_grade, grade_counts, session_cards
from .store import load_progress, progress_path, record_review, save_progress

__all__ = ["DrillWidget", "drill_widget"]


def _markdown_output(text: str) -> tuple[dict, ...]:
    """An ``Output`` widget's outputs that display ``text`` as Markdown."""
    return ({"output_type": "display_data", "data": {"text/markdown": text, "text/plain": text}, "metadata": {}},)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class DrillWidget:
    """The drill as a notebook app: prompt, countdown, reveal, grade buttons, then the next card.

    Grades are scheduled and saved through the same progress file as the terminal command. Displaying the
    object shows the app; ``box`` is the ipywidgets container. Buttons call ``reveal()`` and ``grade(g)``, which
    tests may call directly. The countdown runs in a background thread and stops at reveal (or ``close()``).
    """

    def __init__(self, topic: str | None = None, due_only: bool = False,
                 progress_file: str | os.PathLike | None = None, *, limit: int | None = None,
                 deck: Deck | None = None, clock: Callable[[], datetime] = current_time,
                 timer: Callable[[], float] = time.monotonic, tick_s: float = 1.0, countdown: bool = True):
        import ipywidgets as widgets  # imported on use: the terminal drill must not pay for it

        self.deck = load_deck() if deck is None else deck
        if topic is not None:
            self.deck.topic(topic)  # a clear error naming the valid topics
        self.topic, self.clock, self.timer, self.tick_s, self.use_countdown = topic, clock, timer, tick_s, countdown
        now = clock()
        self.progress = load_progress(progress_file, now=now)
        self.cards = session_cards(self.deck, self.progress, now, topic=topic, due_only=due_only, limit=limit)
        try:  # before the first card: a grade that cannot be saved must not be asked for
            check_writable(self.progress.path or progress_path())
        except ProgressPermissionError as err:
            self.cards = []
            self.progress.notices.append(str(err))
        self.index = 0
        self.graded: list[tuple[str, str]] = []
        self.revealed = False
        self.elapsed = 0.0
        self._started = 0.0
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

        self.header = widgets.HTML()
        self.prompt = widgets.Output()
        self.countdown = widgets.Label()
        self.reveal_button = widgets.Button(description="Reveal answer", button_style="info", icon="eye")
        self.answer = widgets.Output()
        self.grade_buttons = {
            "strong": widgets.Button(description="Strong hire", button_style="success"),
            "lean": widgets.Button(description="Lean hire", button_style="warning"),
            "no": widgets.Button(description="No hire", button_style="danger"),
        }
        self.grade_row = widgets.HBox(list(self.grade_buttons.values()))
        self.status = widgets.HTML()
        self.box = widgets.VBox([self.header, self.prompt, self.countdown, self.reveal_button, self.answer,
                                 self.grade_row, self.status])
        self.reveal_button.on_click(lambda _button: self.reveal())
        for grade, button in self.grade_buttons.items():
            button.on_click(lambda _button, grade=grade: self.grade(grade))
        if self.progress.notices:
            self.status.value = "<br>".join(_escape(notice) for notice in self.progress.notices)
            self.progress.notices.clear()
        self._show_card()

    # what the front end displays: the app, and for a page without a kernel one readable line, not the
    # container's constructor repr (VBox(children=(HTML(value=...)
    def _repr_mimebundle_(self, **kwargs):
        bundle = dict(self.box._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = self.text_summary()
        return bundle

    def text_summary(self) -> str:
        """What a reader without a running kernel sees in place of the app."""
        where = f"the {self.topic} cards" if self.topic else "every topic's cards"
        return (f"[interview drill] {len(self.cards)} card(s) from {where}, timed, graded strong / lean / no hire "
                f"and scheduled for review. Run this cell in JupyterLab to drill, or in a terminal: "
                f"python -m curriculum drill" + (f" --topic {self.topic}" if self.topic else ""))

    @property
    def card(self) -> Card | None:
        return self.cards[self.index] if self.index < len(self.cards) else None

    @property
    def done(self) -> bool:
        return self.index >= len(self.cards)

    def _show(self, widget, visible: bool) -> None:
        widget.layout.display = None if visible else "none"

    def _show_card(self) -> None:
        card = self.card
        if card is None:
            self._show_summary()
            return
        self.revealed = False
        title = self.deck.title(card.topic) if card.topic in self.deck.topics else card.topic
        self.header.value = (f"<b>Card {self.index + 1} of {len(self.cards)}</b> · <code>{_escape(card.id)}</code> · "
                             f"{_escape(title)} · section: {_escape(card.section)} · "
                             f"time limit {clock_text(card.time_limit_s)}")
        self.prompt.outputs = _markdown_output(card.prompt)
        self.answer.outputs = ()
        self._show(self.reveal_button, True)
        self._show(self.grade_row, False)
        self._started = self.timer()
        self.countdown.value = f"Time limit {clock_text(card.time_limit_s)}"
        if self.use_countdown:
            self._start_countdown(card.time_limit_s)

    def _countdown_text(self, limit_s: int) -> str:
        return left_text(limit_s, self.timer() - self._started)

    def _start_countdown(self, limit_s: int) -> None:
        stop = threading.Event()

        def tick() -> None:
            while not stop.is_set():
                self.countdown.value = self._countdown_text(limit_s)
                if stop.wait(self.tick_s):
                    break

        self._stop = stop
        self._thread = threading.Thread(target=tick, name="drill-widget-countdown", daemon=True)
        self._thread.start()

    def _stop_countdown(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * self.tick_s + 1)
        self._stop = self._thread = None

    @property
    def countdown_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def reveal(self) -> None:
        """Stop the clock and show the model answer, rubric and red flags, then the grade buttons."""
        card = self.card
        if card is None or self.revealed:
            return
        self._stop_countdown()
        self.elapsed = self.timer() - self._started
        self.revealed = True
        over = self.elapsed > card.time_limit_s
        self.countdown.value = (f"Time: {clock_text(self.elapsed)} of {clock_text(card.time_limit_s)}"
                                + (" (over the limit)" if over else ""))
        self.answer.outputs = _markdown_output(folded_markdown(card))
        self._show(self.reveal_button, False)
        self._show(self.grade_row, True)

    def grade(self, grade: str) -> CardState | None:
        """Schedule the shown card, save the progress file, and move to the next card."""
        check_grade(grade)
        card = self.card
        if card is None or not self.revealed:
            return None
        now = self.clock()
        state = record_review(self.progress, card, grade, now, seconds=self.elapsed)
        try:
            save_progress(self.progress, now=now)
        except OSError as err:  # a full disk must not lose the session: the grade stays in memory
            self.status.value = f"<b>Could not save the progress file</b>: {_escape(str(err))}"
        else:
            notices = "".join(f"<br>{_escape(notice)}" for notice in self.progress.notices)
            self.progress.notices.clear()
            self.status.value = (f"{_escape(card.id)}: {GRADE_LABELS[grade]}, box {state.box}, next review "
                                 f"{when_text(state.due, now)}. Saved to <code>{_escape(str(self.progress.path))}"
                                 f"</code>.{notices}")
        self.graded.append((card.id, grade))
        self.index += 1
        self._show_card()
        return state

    def _show_summary(self) -> None:
        self._stop_countdown()
        self._show(self.reveal_button, False)
        self._show(self.grade_row, False)
        self.prompt.outputs = ()
        self.answer.outputs = ()
        self.countdown.value = ""
        if not self.cards:
            self.header.value = "<b>Nothing to review</b>: no cards are due (or the deck has none for this topic)."
            return
        counts = grade_counts(self.graded)
        self.header.value = (f"<b>Session complete</b>: {len(self.graded)} card(s): strong hire {counts['strong']}, "
                             f"lean hire {counts['lean']}, no hire {counts['no']}.")

    def close(self) -> None:
        """Stop the countdown thread and close the widgets."""
        self._stop_countdown()
        self.box.close()


def drill_widget(topic: str | None = None, due_only: bool = False, progress_file: str | os.PathLike | None = None,
                 **kwargs: Any) -> DrillWidget:
    """``DrillWidget(...)``: put it last in a cell to show it."""
    return DrillWidget(topic=topic, due_only=due_only, progress_file=progress_file, **kwargs)
