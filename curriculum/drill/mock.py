"""The mock interview: the five practice problems of the study plan, timed in sequence, then graded.

``PRACTICE_PROBLEMS`` are five cards of the deck with the minutes each gets in the mock; together they fill
``MOCK_BUDGET_S`` (55 minutes), the plan's day-21 mock interview. ``run_mock`` asks them one after another
with a live countdown showing the problem's time and the interview's; Enter moves on, and when the 55
minutes are spent the interview stops (problems not reached are listed, not graded). Only then come the model
answer, rubric and red flags of each problem answered, each followed by a self-grade that is saved at once as
a review of its card (with the mock's time limit). Last, the whole interview is recorded in the progress
file's ``mocks`` list: when, the budget, the seconds on each problem and its grade. ``problems=(3, 5)`` runs
a subset (the plan's day-14 timed problems) with the budget of those problems.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from .access import check_writable
from .clock import clock_text, current_time, format_time, left_text
from .console import Console, ask_grade, ending, read_timed
from .deck import Deck
from .scheduling import GRADE_LABELS, grade_counts
from .store import Progress, progress_path, record_review, save_progress
from .terminal import say_notices
from .termtext import card_answer_text, prompt_text, terminal_width, wrap

__all__ = ["Problem", "PRACTICE_PROBLEMS", "MOCK_BUDGET_S", "MockResult", "practice_problems", "run_mock",
           "mock_command"]


@dataclass(frozen=True)
class Problem:
    number: int
    title: str
    card_id: str
    minutes: int

    @property
    def limit_s(self) -> int:
        return self.minutes * 60


PRACTICE_PROBLEMS = (
    Problem(1, "ELBO derivation", "vae-elbo-derivation", 10),
    Problem(2, "GAN optimal discriminator", "gan-optimal-discriminator-to-jsd", 8),
    Problem(3, "Diffusion model design", "comparison-text-to-image-system-design", 15),
    Problem(4, "Mode-collapse diagnosis", "gan-mode-collapse-diagnosis", 12),
    Problem(5, "Generative model selection for a product", "comparison-model-choice-product-images", 10),
)
MOCK_BUDGET_S = sum(problem.limit_s for problem in PRACTICE_PROBLEMS)  # 55 minutes


def mock_command(numbers: Sequence[int] = ()) -> str:
    """The command line that runs these practice problems (all five when ``numbers`` is empty)."""
    return "python -m curriculum drill --mock" + "".join(f" --problem {number}" for number in numbers)


def practice_problems(numbers: Sequence[int] | None = None) -> list[Problem]:
    """The problems with these numbers (1-5), in order; all five for None or an empty list."""
    if not numbers:
        return list(PRACTICE_PROBLEMS)
    known = {problem.number: problem for problem in PRACTICE_PROBLEMS}
    unknown = [number for number in numbers if number not in known]
    if unknown:
        raise ValueError(f"practice problems are numbered 1 to {len(PRACTICE_PROBLEMS)}; got {unknown[0]!r}")
    return [known[number] for number in sorted(set(numbers))]


@dataclass
class MockResult:
    """What a mock did: seconds per problem answered, grades given, problems not reached, how it ended."""

    seconds: dict[int, float] = field(default_factory=dict)
    grades: dict[int, str] = field(default_factory=dict)
    not_reached: list[int] = field(default_factory=list)
    ended: str = "done"  # "done", "time" (the budget ran out), "quit" or "eof"
    entry: dict | None = None


def run_mock(deck: Deck, progress: Progress, *, problems: Sequence[int] | None = None,
             clock: Callable[[], datetime] = current_time, stdin: TextIO | None = None,
             stdout: TextIO | None = None, timer: Callable[[], float] = time.monotonic,
             live_countdown: bool | None = None, tick_s: float = 1.0, width: int | None = None) -> MockResult:
    """Run the mock interview (see the module docstring); every grade is saved as soon as it is given."""
    chosen = practice_problems(problems)
    missing = [problem.card_id for problem in chosen if problem.card_id not in deck]
    if missing:
        raise ValueError(f"the deck has no card {missing[0]!r} for a practice problem")
    console = Console(stdin if stdin is not None else sys.stdin, stdout if stdout is not None else sys.stdout)
    say = console.say
    check_writable(progress.path or progress_path())
    live_countdown = console.color and not console.echo if live_countdown is None else live_countdown
    width = width or terminal_width()
    budget = sum(problem.limit_s for problem in chosen)
    result = MockResult()
    started_at = clock()

    say(wrap(f"Mock interview: {len(chosen)} problem{'s' if len(chosen) != 1 else ''} in {clock_text(budget)} "
             f"({', '.join(f'{p.number}. {p.title}, {p.minutes} min' for p in chosen)}).", width))
    say(wrap("Answer each out loud or on paper; Enter moves to the next problem. Model answers, rubrics and your "
             "self-grades come after the last one. q + Enter stops the clock early.", width))
    interview_start = timer()
    for index, problem in enumerate(chosen):
        card = deck.get(problem.card_id)
        spent = timer() - interview_start
        say(f"\n[Problem {problem.number} · {index + 1} of {len(chosen)}] {problem.title}  ({card.id})")
        say(f"Time for this problem: {clock_text(problem.limit_s)} · interview: {left_text(budget, spent)} "
            f"of {clock_text(budget)}")
        say(prompt_text(card, width, color=console.color))
        say("\nPress Enter when you are done with this problem.")
        line, took = read_timed(console, lambda spent: (f"  problem {left_text(problem.limit_s, spent)} · "
                                                        f"interview {left_text(budget, timer() - interview_start)} "),
                                timer, tick_s, live_countdown, say)
        if ended := ending(line):
            result.ended = ended
            result.not_reached = [p.number for p in chosen[index:]]
            break
        result.seconds[problem.number] = took
        over = took > problem.limit_s
        say(f"Time: {clock_text(took)} of {clock_text(problem.limit_s)}"
            + (f" (over by {clock_text(took - problem.limit_s)})" if over else ""))
        if timer() - interview_start >= budget and index + 1 < len(chosen):
            result.ended = "time"
            result.not_reached = [p.number for p in chosen[index + 1:]]
            say(f"\nTime is up: the {clock_text(budget)} are spent. Not reached: problem(s) "
                f"{', '.join(map(str, result.not_reached))}.")
            break

    total = sum(result.seconds.values())
    say(f"\n=== Review: {len(result.seconds)} problem(s) answered in {clock_text(total)} "
        f"of {clock_text(budget)} ===")
    for problem in chosen:
        if problem.number not in result.seconds:
            continue
        card = deck.get(problem.card_id)
        took = result.seconds[problem.number]
        say(f"\n[Problem {problem.number}] {problem.title}: your time {clock_text(took)} of "
            f"{clock_text(problem.limit_s)}")
        say(card_answer_text(card, width, color=console.color))
        grade, ended = ask_grade(console)
        if grade is None:
            if ended == "eof":
                say()
            result.ended = ended or "eof"
            break
        now = clock()
        state = record_review(progress, card, grade, now, seconds=took, time_limit_s=problem.limit_s)
        save_progress(progress, now=now)
        result.grades[problem.number] = grade
        say(f"-> {GRADE_LABELS[grade]}: saved; {card.id} is now in box {state.box}.")
        say_notices(progress, say)

    if result.seconds:
        result.entry = {"time": format_time(started_at), "budget_s": budget, "seconds": round(total, 1),
                        "problems": [{"number": p.number, "card": p.card_id, "limit_s": p.limit_s,
                                      "seconds": round(result.seconds[p.number], 1) if p.number in result.seconds
                                      else None, "grade": result.grades.get(p.number)} for p in chosen]}
        progress.add_entry("mocks", result.entry)
        save_progress(progress, now=clock())
        say_notices(progress, say)
    if not result.seconds:
        say("\nNo problem was answered, so nothing was saved.")
        return result
    counts = grade_counts([(str(number), grade) for number, grade in result.grades.items()])
    say(f"\nMock interview saved: {len(result.grades)} graded (strong {counts['strong']}, lean {counts['lean']}, "
        f"no {counts['no']}); {clock_text(total)} of {clock_text(budget)}. Progress file: {progress.path}")
    return result
