"""Statistics for ``python -m curriculum drill --stats``: cards per box, due counts, accuracy and skill trends.

``drill_stats`` counts; ``format_stats`` lays the counts out as text. Accuracy is the share of reviews not
graded "no hire". Progress entries for card ids that are not in the deck are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import local_date, zone_text
from .deck import Deck
from .scheduling import GRADES, INTERVALS_DAYS
from .skills import SkillTrend, skill_key, skill_progress
from .store import Progress

__all__ = ["DrillStats", "drill_stats", "format_stats"]


@dataclass(frozen=True)
class DrillStats:
    """Counts over the deck (or one topic) at one moment; ``per_box[b]`` is the number of cards in box b."""

    cards: int
    per_box: tuple[int, ...]
    new: int
    due_now: int
    due_next_7_days: int
    reviews: int
    grades_by_topic: dict[str, dict[str, int]]
    skills: dict[str, SkillTrend]
    unrated_skills: int


def drill_stats(deck: Deck, progress: Progress, now: datetime, topic: str | None = None) -> DrillStats:
    """Counts for ``--stats``, in the learner's calendar days (``now``'s zone): ``due_now`` counts the cards due
    today or earlier, ``due_next_7_days`` those due after today and within 7 days."""
    today = local_date(now)
    topics = [topic] if topic is not None else list(deck.topics)
    per_box = [0] * len(INTERVALS_DAYS)
    new = due_now = soon = reviews = 0
    grades: dict[str, dict[str, int]] = {}
    for name in topics:
        counts = dict.fromkeys(GRADES, 0)
        for card in deck.by_topic(name):
            state = progress.state(card.id, now)
            per_box[state.box] += 1
            new += state.is_new
            due_now += state.due <= today
            soon += today < state.due <= today + timedelta(days=7)
            reviews += len(state.reviews)
            for item in state.reviews:
                counts[item.grade] += 1
        grades[name] = counts
    wanted = {skill_key(name, skill) for name in topics for skill in deck.skills(name)}
    trends = {key: trend for key, trend in skill_progress(progress).items() if key in wanted}
    return DrillStats(cards=sum(per_box), per_box=tuple(per_box), new=new, due_now=due_now, due_next_7_days=soon,
                      reviews=reviews, grades_by_topic=grades, skills=trends,
                      unrated_skills=len(wanted - set(trends)))


def format_stats(deck: Deck, progress: Progress, now: datetime, topic: str | None = None) -> str:
    """The ``--stats`` summary as text. Accuracy = share of reviews not graded "no hire"."""
    stats = drill_stats(deck, progress, now, topic)
    scope = f"topic {topic}" if topic else f"{len(deck.topics)} topics"
    lines = [f"Drill progress on {local_date(now):%Y-%m-%d} ({zone_text(now)}; {stats.cards} cards, {scope})",
             f"Progress file: {progress.path}", "", "Cards per box (review interval):"]
    for box, count in enumerate(stats.per_box):
        note = f"  ({stats.new} never reviewed)" if box == 0 and stats.new else ""
        lines.append(f"  box {box} ({INTERVALS_DAYS[box]:>2} days): {count:>4}{note}")
    lines += ["", f"Due today: {stats.due_now}", f"Due in the next 7 days (after today): {stats.due_next_7_days}",
              f"Reviews done: {stats.reviews}", "",
              "Accuracy by topic (reviews: strong / lean / no hire; accuracy = not a no hire):"]
    width = max((len(name) for name in stats.grades_by_topic), default=5)
    for name, counts in stats.grades_by_topic.items():
        total = sum(counts.values())
        if total:
            accuracy = f"{100 * (total - counts['no']) / total:.0f}%"
            lines.append(f"  {name:<{width}}  {total:>3} reviews: {counts['strong']} / {counts['lean']} / "
                         f"{counts['no']}   accuracy {accuracy}")
        else:
            lines.append(f"  {name:<{width}}    0 reviews")
    lines += ["", "Skill ratings (first -> latest):"]
    if stats.skills:
        for key, trend in sorted(stats.skills.items()):
            lines.append(f"  {key}: {trend.first} -> {trend.latest} ({trend.change:+d}) "
                         f"since {trend.first_time:%Y-%m-%d}")
    else:
        lines.append("  none yet")
    if stats.unrated_skills:
        lines.append(f"  {stats.unrated_skills} skill(s) not rated yet: python -m curriculum drill --skills")
    return "\n".join(lines)
