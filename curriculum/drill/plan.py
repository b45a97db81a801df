"""The 21-day study plan: checkpoints counted in calendar days from the learner's start date.

``CHECKPOINTS`` are day 0 (initial learning), day 3 (first recall), day 7 (connections), day 14 (application:
timed practice problems) and day 21 (the mock interview: all five practice problems in 55 minutes). Each task
names the cards that exercise it, the notebook sections to reread (from ``curriculum.syllabus``) and the
timed practice problems (``mock``), with the command that launches them.

The start date is the progress file's ``start_date``: set by the first review, or by ``--plan --start
YYYY-MM-DD``. Days are the learner's calendar days (the zone of ``now``). A task is done when each of its
cards has a review on or after the checkpoint's date and each of its practice problems was graded in a mock
interview on or after it. ``plan_view`` works out where the learner stands today: the current checkpoint's
tasks, the tasks of earlier checkpoints still open (overdue), the cards past their review date and the
number due today; ``format_plan`` prints it.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..syllabus import notebook_name
from .clock import local_date, parse_time, zone_text
from .deck import Deck
from .mock import PRACTICE_PROBLEMS, mock_command
from .scheduling import DAILY_CAP, due_cards
from .store import Progress

__all__ = ["Task", "Checkpoint", "CHECKPOINTS", "TaskStatus", "PlanView", "plan_view", "format_plan"]


@dataclass(frozen=True)
class Task:
    """One thing to do at a checkpoint. ``shaky``: its cards are the derivations the learner hesitated on."""

    text: str
    cards: tuple[str, ...] = ()
    sections: tuple[tuple[str, str], ...] = ()  # (topic, section name) to reread
    problems: tuple[int, ...] = ()  # practice problems, timed in a mock interview
    shaky: bool = False


@dataclass(frozen=True)
class Checkpoint:
    day: int
    name: str
    tasks: tuple[Task, ...]


CHECKPOINTS = (
    Checkpoint(0, "Initial learning", (
        Task("Work through the ELBO, then derive it on paper without looking", ("vae-elbo-derivation",),
             (("vae", "Derivation"),)),
        Task("Write the GAN minimax objective and prove the optimal discriminator", ("gan-optimal-discriminator",),
             (("gan", "Derivation"),)),
        Task("Write the DDPM forward process and its training objective",
             ("diffusion-forward-closed-form", "diffusion-simple-loss-weighting"), (("diffusion", "Derivation"),)),
        Task("Fill in the comparison of the model families from memory", ("comparison-families-trade-offs",),
             (("foundations", "The families of generative models"),)),
    )),
    Checkpoint(3, "First recall", (
        Task("Without notes, derive the ELBO and say what its gap is", ("vae-elbo-derivation",),
             (("vae", "Derivation"),)),
        Task("Give the sixty-second answer on diffusion models out loud, timed", ("diffusion-sixty-second-pitch",),
             (("diffusion", "Intuition"),)),
        Task("Explain why GANs mode-collapse and diffusion models do not",
             ("comparison-mode-collapse-gan-vs-diffusion",), (("gan", "Failure modes"),)),
        Task("Explain the reparameterisation trick and why it is needed", ("vae-reparameterisation",),
             (("vae", "Implement"),)),
    )),
    Checkpoint(7, "Connections", (
        Task("Compare the model families in one table from memory", ("comparison-families-trade-offs",),
             (("comparison", "Intuition"),)),
        Task("Connect DDPM's noise prediction to score matching",
             ("score-dsm-tweedie", "diffusion-predicts-noise-not-image"), (("score", "Derivation"),)),
        Task("Practice problem 1 (the ELBO derivation) on a whiteboard", problems=(1,)),
        Task("Explain classifier-free guidance and what the guidance scale trades",
             ("latent_cfg-classifier-vs-classifier-free", "latent_cfg-guidance-tradeoff-saturation"),
             (("latent_cfg", "Derivation"),)),
    )),
    Checkpoint(14, "Application", (
        Task("Practice problems 3 (diffusion model design, 15 minutes) and 5 (model selection for a product, "
             "10 minutes), timed", problems=(3, 5)),
        Task("Explain the Stable Diffusion architecture end to end",
             ("latent_cfg-why-latent-space", "latent_cfg-implement-guided-step"), (("latent_cfg", "Intuition"),)),
        Task("Review the derivations you hesitated on (graded below strong hire, or over time)", shaky=True),
    )),
    Checkpoint(21, "Mock interview", (
        Task("Compare VAEs, GANs and diffusion models out loud in five to eight minutes",
             ("comparison-families-trade-offs",), (("comparison", "Intuition"),)),
        Task("All five practice problems in sequence, 55 minutes", problems=(1, 2, 3, 4, 5)),
        Task("Whiteboard the DDPM training algorithm from memory", ("diffusion-simple-loss-weighting",),
             (("diffusion", "Implement"),)),
    )),
)


@dataclass
class TaskStatus:
    """A task as it stands: when each card was last done since the checkpoint, which problems are done."""

    task: Task
    cards: list[tuple[str, date | None, bool]]  # (card id, day done on or after the checkpoint, in the deck)
    problems: list[tuple[int, date | None]]

    @property
    def done(self) -> bool:
        return (all(day is not None for _, day, in_deck in self.cards if in_deck)
                and all(day is not None for _, day in self.problems))


@dataclass
class PlanView:
    start: date
    today: date
    day: int
    zone: str
    current: Checkpoint | None
    upcoming: Checkpoint | None
    tasks: list[TaskStatus]
    overdue: list[tuple[Checkpoint, list[TaskStatus]]]
    late_cards: list[tuple[str, date]]
    due_today: int
    states: dict[int, str] = field(default_factory=dict)  # checkpoint day -> "done", "open", "current", "ahead"


def _review_days(progress: Progress, card_id: str, now: datetime) -> list[tuple[date, str, bool]]:
    if card_id not in progress.cards:
        return []
    return [(local_date(item.time, now), item.grade, item.over_limit)
            for item in progress.state(card_id, now).reviews]


def _shaky_cards(deck: Deck, progress: Progress, now: datetime, before: date) -> tuple[str, ...]:
    """Derivation cards whose latest review before ``before`` was below strong hire or over time."""
    shaky = []
    for card in deck:
        if "Derivation" not in card.section and "derivation" not in card.section:
            continue
        earlier = [entry for entry in _review_days(progress, card.id, now) if entry[0] < before]
        if earlier and (earlier[-1][1] != "strong" or earlier[-1][2]):
            shaky.append(card.id)
    return tuple(shaky)


def _mock_days(progress: Progress, now: datetime) -> dict[int, list[date]]:
    days: dict[int, list[date]] = {}
    for entry in progress.mocks:
        when = local_date(parse_time(entry["time"]), now)
        for problem in entry.get("problems", []):
            if isinstance(problem, dict) and problem.get("grade"):
                days.setdefault(problem.get("number"), []).append(when)
    return days


def _status(task: Task, since: date, deck: Deck, progress: Progress, now: datetime) -> TaskStatus:
    card_ids = _shaky_cards(deck, progress, now, since) if task.shaky else task.cards
    cards = []
    for card_id in card_ids:
        days = [day for day, _, _ in _review_days(progress, card_id, now) if day >= since]
        cards.append((card_id, min(days) if days else None, card_id in deck))
    mock_days = _mock_days(progress, now)
    problems = [(number, min((day for day in mock_days.get(number, []) if day >= since), default=None))
                for number in task.problems]
    return TaskStatus(task, cards, problems)


def plan_view(deck: Deck, progress: Progress, now: datetime) -> PlanView:
    """Where the learner stands in the plan on ``now``'s calendar day; ``ValueError`` when no start date is set."""
    start = progress.start_date
    if start is None:
        raise ValueError("no start date yet: it is set by the first review, or by --plan --start YYYY-MM-DD")
    today = local_date(now)
    day = (today - start).days
    reached = [checkpoint for checkpoint in CHECKPOINTS if checkpoint.day <= day]
    current = reached[-1] if reached else None
    upcoming = next((checkpoint for checkpoint in CHECKPOINTS if checkpoint.day > day), None)
    states: dict[int, str] = {}
    overdue = []
    tasks: list[TaskStatus] = []
    for checkpoint in reached:
        since = start + timedelta(days=checkpoint.day)
        statuses = [_status(task, since, deck, progress, now) for task in checkpoint.tasks]
        open_ones = [status for status in statuses if not status.done]
        if checkpoint is current:
            tasks = statuses
            states[checkpoint.day] = "done" if not open_ones else "current"
        else:
            states[checkpoint.day] = "done" if not open_ones else "open"
            if open_ones:
                overdue.append((checkpoint, open_ones))
    for checkpoint in CHECKPOINTS:
        states.setdefault(checkpoint.day, "ahead")
    late = [(card.id, progress.state(card.id, now).due) for card in deck if card.id in progress.cards]
    late = [(card_id, due) for card_id, due in late if due < today]
    return PlanView(start=start, today=today, day=day, zone=zone_text(now), current=current, upcoming=upcoming,
                    tasks=tasks, overdue=overdue, late_cards=sorted(late, key=lambda item: (item[1], item[0])),
                    due_today=len(due_cards(deck, progress, now)), states=states)


def _task_lines(status: TaskStatus, width: int, indent: str) -> list[str]:
    mark = "[x]" if status.done else "[ ]"
    wrap = textwrap.TextWrapper(width=width, break_long_words=False, break_on_hyphens=False)
    lines = wrap.wrap(f"{indent}{mark} {status.task.text}") or [indent + mark]
    detail = indent + "      "
    wrap.initial_indent = wrap.subsequent_indent = detail
    if status.task.shaky and not status.cards:
        lines.append(f"{detail}nothing to review: no derivation was graded below strong hire before this day")
    if status.cards:
        parts = [f"{card_id} ({'done ' + f'{day:%Y-%m-%d}' if day else 'to do'}"
                 f"{'' if in_deck else ', not in this deck'})" for card_id, day, in_deck in status.cards]
        lines += wrap.wrap("cards: " + ", ".join(parts))
    for topic, section in status.task.sections:
        lines += wrap.wrap(f"reread: {notebook_name(topic)} § {section}")
    if status.problems:
        problems = {problem.number: problem for problem in PRACTICE_PROBLEMS}
        for number, day in status.problems:
            problem = problems[number]
            lines += wrap.wrap(f"timed: problem {number}, {problem.title}, {problem.minutes} min "
                               f"({'done ' + f'{day:%Y-%m-%d}' if day else 'to do'})")
        lines += wrap.wrap(f"run: {mock_command(() if len(status.problems) == 5 else status.task.problems)}")
    return lines


def format_plan(view: PlanView, width: int = 80, daily_cap: int = DAILY_CAP) -> str:
    """The plan as text: the checkpoint table, today's tasks, what is overdue and what is due today."""
    lines = ["Study plan: checkpoints on days 0, 3, 7, 14 and 21 from your start date."]
    lines += textwrap.wrap(f"Started {view.start:%Y-%m-%d}; today, {view.today:%Y-%m-%d}, is day {view.day} "
                           f"(calendar days in {view.zone}).", width=width, break_on_hyphens=False) + [""]
    words = {"done": "done", "open": "not finished (overdue)", "current": "current checkpoint"}
    for checkpoint in CHECKPOINTS:
        on = view.start + timedelta(days=checkpoint.day)
        state = view.states[checkpoint.day]
        if state == "ahead":
            ahead = (on - view.today).days
            word = f"in {ahead} day{'s' if ahead != 1 else ''}"
        else:
            word = words[state]
        lines.append(f"  day {checkpoint.day:>2}  {on:%Y-%m-%d}  {checkpoint.name:<17} {word}")
    lines.append("")
    if view.current is None:
        lines.append(f"Your plan starts on {view.start:%Y-%m-%d}; nothing to do for it yet.")
    else:
        since = view.start + timedelta(days=view.current.day)
        when = "today" if since == view.today else f"since {since:%Y-%m-%d}"
        lines.append(f"Checkpoint day {view.current.day}, {view.current.name} ({when}):")
        for status in view.tasks:
            lines += _task_lines(status, width, "  ")
        if view.upcoming is not None:
            on = view.start + timedelta(days=view.upcoming.day)
            lines.append(f"Next: day {view.upcoming.day}, {view.upcoming.name}, on {on:%Y-%m-%d}.")
        else:
            lines.append("That was the last checkpoint; keep the cards fresh with --due.")
    lines += ["", "Overdue:"]
    if not view.overdue and not view.late_cards:
        lines.append("  nothing")
    for checkpoint, statuses in view.overdue:
        since = view.start + timedelta(days=checkpoint.day)
        lines.append(f"  day {checkpoint.day}, {checkpoint.name} (since {since:%Y-%m-%d}):")
        for status in statuses:
            lines += _task_lines(status, width, "    ")
    if view.late_cards:
        shown = ", ".join(f"{card_id} (due {due:%Y-%m-%d})" for card_id, due in view.late_cards[:6])
        more = f" and {len(view.late_cards) - 6} more" if len(view.late_cards) > 6 else ""
        lines += textwrap.wrap(f"  {len(view.late_cards)} card(s) past their review date: {shown}{more}",
                               width=width, subsequent_indent="    ", break_long_words=False,
                               break_on_hyphens=False)
    lines += ["", f"Cards due today: {view.due_today}. Run: python -m curriculum drill --due (at most {daily_cap} "
                  f"a day)"]
    return "\n".join(lines)
