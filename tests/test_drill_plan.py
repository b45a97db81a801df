"""The 21-day study plan (checkpoints from the start date, today's tasks, what is overdue, across a time-zone
change) and the mock interview (five practice problems in 55 minutes, rubrics, saved self-grades)."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from curriculum import drill, syllabus

ROOT = Path(__file__).resolve().parent.parent
TOKYO, NEW_YORK = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
START = date(2026, 1, 1)
REAL = drill.load_deck()


def at(day: int, hour: int = 9, zone=TOKYO) -> datetime:
    moment = START + timedelta(days=day)
    return datetime(moment.year, moment.month, moment.day, hour, tzinfo=zone)


def headings(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(c["source"]) + "\n" for c in cells if c["cell_type"] == "markdown")
    return [re.sub(r"^\d+\s*·\s*", "", line[3:].strip()) for line in text.splitlines() if line.startswith("## ")]


# ---------------------------------------------------------------------------------------------- the plan itself


def test_the_checkpoints_follow_the_source_plan():
    assert [(c.day, c.name) for c in drill.CHECKPOINTS] == [
        (0, "Initial learning"), (3, "First recall"), (7, "Connections"), (14, "Application"),
        (21, "Mock interview")]
    problems = {c.day: sorted(n for task in c.tasks for n in task.problems) for c in drill.CHECKPOINTS}
    assert problems == {0: [], 3: [], 7: [1], 14: [3, 5], 21: [1, 2, 3, 4, 5]}


@pytest.mark.parametrize("checkpoint", drill.CHECKPOINTS, ids=lambda c: f"day-{c.day}")
def test_every_task_points_at_real_cards_and_sections(checkpoint):
    for task in checkpoint.tasks:
        assert task.cards or task.problems or task.shaky, task.text
        for card_id in task.cards:
            assert card_id in REAL, card_id
        for topic, section in task.sections:
            assert section in syllabus.section_names(topic), (topic, section)
            notebook = ROOT / "notebooks" / syllabus.notebook_name(topic)
            if notebook.exists():
                assert any(heading.startswith(section) for heading in headings(notebook)), (notebook.name, section)


def test_the_mock_interview_is_five_practice_problems_in_55_minutes():
    assert drill.MOCK_BUDGET_S == 55 * 60 == sum(p.limit_s for p in drill.PRACTICE_PROBLEMS)
    assert [p.title for p in drill.PRACTICE_PROBLEMS] == [
        "ELBO derivation", "GAN optimal discriminator", "Diffusion model design", "Mode-collapse diagnosis",
        "Generative model selection for a product"]
    minutes = {p.number: p.minutes for p in drill.PRACTICE_PROBLEMS}
    assert minutes[3] == 15 and minutes[5] == 10  # the plan's day-14 timings
    for problem in drill.PRACTICE_PROBLEMS:
        card = REAL.get(problem.card_id)
        assert card.rubric.strong_hire and card.rubric.no_hire and len(card.red_flags) >= 2
    assert "JSD" in REAL.get("gan-optimal-discriminator-to-jsd").prompt  # both halves of problem 2
    assert "2 seconds" in REAL.get("comparison-model-choice-product-images").prompt


def plan_progress() -> drill.Progress:
    progress = drill.Progress()
    progress.set_start(START)
    return progress


def test_today_and_overdue(tmp_path):
    progress = plan_progress()
    # day 0 done in full, but on day 1; day 3 half done on day 3; one review before day 3 does not count for it
    for card_id in ("vae-elbo-derivation", "gan-optimal-discriminator", "diffusion-forward-closed-form",
                    "diffusion-simple-loss-weighting", "comparison-families-trade-offs"):
        drill.record_review(progress, REAL.get(card_id), "strong", at(1))
    drill.record_review(progress, REAL.get("vae-reparameterisation"), "no", at(2))
    drill.record_review(progress, REAL.get("vae-elbo-derivation"), "lean", at(3))
    drill.record_review(progress, REAL.get("diffusion-sixty-second-pitch"), "strong", at(3))
    view = drill.plan_view(REAL, progress, at(7))
    assert (view.start, view.today, view.day, view.current.day, view.upcoming.day) == (START, START + timedelta(7),
                                                                                       7, 7, 14)
    assert view.states == {0: "done", 3: "open", 7: "current", 14: "ahead", 21: "ahead"}
    ((overdue, still_open),) = view.overdue
    assert overdue.day == 3 and [s.task.cards for s in still_open] == [
        ("comparison-mode-collapse-gan-vs-diffusion",), ("vae-reparameterisation",)]
    assert [status.done for status in view.tasks] == [False, False, False, False]
    # every card reviewed is past its review date by day 7; the miss of day 2 (due that day) comes first
    assert view.late_cards[0] == ("vae-reparameterisation", START + timedelta(2)) and len(view.late_cards) == 7
    assert ("vae-elbo-derivation", START + timedelta(6)) in view.late_cards  # the lean of day 3 counts
    text = drill.format_plan(view, width=80)
    assert "Started 2026-01-01; today, 2026-01-08, is day 7" in text and "Asia/Tokyo" in text
    assert "Checkpoint day 7, Connections (today):" in text
    assert "run: python -m curriculum drill --mock --problem 1" in text
    assert "reread: 07_score_matching.ipynb § Derivation" in text
    assert "day 3, First recall (since 2026-01-04):" in text and "vae-reparameterisation (to do)" in text
    assert "7 card(s) past their review date: vae-reparameterisation (due 2026-01-03)" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    # day 14: the timed pair and the derivations graded below strong hire
    fourteen = drill.plan_view(REAL, progress, at(14))
    shaky = next(s for s in fourteen.tasks if s.task.shaky)
    assert [card_id for card_id, _, _ in shaky.cards] == ["vae-elbo-derivation"]  # its latest grade was lean
    assert "run: python -m curriculum drill --mock --problem 3 --problem 5" in drill.format_plan(fourteen)


def test_plan_days_across_a_time_zone_change():
    progress = plan_progress()  # started on 1 January in Tokyo
    evening_in_new_york = datetime(2026, 1, 7, 20, 0, tzinfo=NEW_YORK)  # already 10:00 on 8 January in Tokyo
    view = drill.plan_view(REAL, progress, evening_in_new_york)
    assert (view.today, view.day, view.current.day) == (date(2026, 1, 7), 6, 3)
    assert "America/New_York" in view.zone
    after_midnight = drill.plan_view(REAL, progress, datetime(2026, 1, 8, 0, 5, tzinfo=NEW_YORK))
    assert (after_midnight.day, after_midnight.current.day) == (7, 7)
    # a review at 23:30 on 7 January in New York is on day 6: it does not count for the day-7 checkpoint
    drill.record_review(progress, REAL.get("comparison-families-trade-offs"), "strong",
                        datetime(2026, 1, 7, 23, 30, tzinfo=NEW_YORK))
    assert not drill.plan_view(REAL, progress, datetime(2026, 1, 8, 9, tzinfo=NEW_YORK)).tasks[0].done
    drill.record_review(progress, REAL.get("comparison-families-trade-offs"), "strong",
                        datetime(2026, 1, 8, 0, 30, tzinfo=NEW_YORK))
    assert drill.plan_view(REAL, progress, datetime(2026, 1, 8, 9, tzinfo=NEW_YORK)).tasks[0].done


def test_before_the_start_and_after_the_last_checkpoint():
    progress = plan_progress()
    early = drill.plan_view(REAL, progress, at(-2))
    assert early.current is None and early.day == -2
    assert "Your plan starts on 2026-01-01" in drill.format_plan(early)
    late = drill.format_plan(drill.plan_view(REAL, progress, at(30)))
    assert "That was the last checkpoint" in late and "day 21, Mock interview" in late
    with pytest.raises(ValueError, match="no start date yet"):
        drill.plan_view(REAL, drill.Progress(), at(0))


# ---------------------------------------------------------------------------------------------- the mock interview


class Minutes:
    """A fake monotonic clock that the scripted input moves: each line read takes the next duration."""

    def __init__(self):
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


class TimedInput(io.StringIO):
    def __init__(self, lines: str, timer: Minutes, minutes: list[float]):
        super().__init__(lines)
        self.timer, self.minutes = timer, list(minutes)

    def readline(self, *args):
        if self.minutes:
            self.timer.value += 60 * self.minutes.pop(0)
        return super().readline(*args)


def test_a_mock_interview_saves_each_grade_and_the_interview(tmp_path):
    path = tmp_path / "progress.json"
    progress = drill.load_progress(path)
    progress.set_start(START)
    timer, out = Minutes(), io.StringIO()
    # answers: 9, 8.5, 16 (over), 11, 9 minutes; then the five grades
    stdin = TimedInput("\n\n\n\n\ns\nl\nn\ns\nx\nl\n", timer, [9, 8.5, 16, 11, 9])
    result = drill.run_mock(REAL, progress, clock=lambda: at(21), stdin=stdin, stdout=out, timer=timer,
                            live_countdown=False, width=80)
    text = out.getvalue()
    assert result.ended == "done" and result.not_reached == []
    assert result.grades == {1: "strong", 2: "lean", 3: "no", 4: "strong", 5: "lean"}
    assert "Mock interview: 5 problems in 55:00" in text
    assert "Time: 16:00 of 15:00 (over by 1:00)" in text
    assert "=== Review: 5 problem(s) answered in 53:30 of 55:00 ===" in text
    # every prompt comes before every answer: rubrics only after the timed part
    assert text.rindex("Press Enter when you are done") < text.index("--- Model answer ---")
    assert text.count("--- Rubric ---") == 5 and "Please type s, l, n or q (got 'x')." in text
    saved = json.loads(path.read_text())
    (entry,) = saved["mocks"]
    assert entry["budget_s"] == 3300 and entry["seconds"] == 3210.0 and entry["time"] == "2026-01-22T00:00:00Z"
    assert [(p["number"], p["limit_s"], p["seconds"], p["grade"]) for p in entry["problems"]] == [
        (1, 600, 540.0, "strong"), (2, 480, 510.0, "lean"), (3, 900, 960.0, "no"), (4, 720, 660.0, "strong"),
        (5, 600, 540.0, "lean")]
    review = saved["cards"]["comparison-text-to-image-system-design"]["reviews"][0]
    assert (review["grade"], review["time_limit_s"], review["over_limit"]) == ("no", 900, True)
    assert "$" not in text and "\\mathrm" not in text and "𝔼" in text  # rendered, not raw LaTeX
    # the plan counts the problems done
    view = drill.plan_view(REAL, drill.load_progress(path), at(21))
    assert next(s for s in view.tasks if s.task.problems).done


def test_the_mock_stops_when_the_55_minutes_are_spent(tmp_path):
    progress = drill.load_progress(tmp_path / "progress.json")
    timer, out = Minutes(), io.StringIO()
    stdin = TimedInput("\n\n\n\n\ns\ns\ns\n", timer, [20, 20, 20])
    result = drill.run_mock(REAL, progress, clock=lambda: at(21), stdin=stdin, stdout=out, timer=timer,
                            live_countdown=False, width=80)
    assert result.ended == "time" and result.not_reached == [4, 5] and sorted(result.grades) == [1, 2, 3]
    assert "Time is up: the 55:00 are spent. Not reached: problem(s) 4, 5." in out.getvalue()
    problems = drill.load_progress(tmp_path / "progress.json").mocks[0]["problems"]
    assert [p["grade"] for p in problems] == ["strong", "strong", "strong", None, None]


def test_the_day_14_pair_has_its_own_budget(tmp_path):
    progress = drill.load_progress(tmp_path / "progress.json")
    out = io.StringIO()
    result = drill.run_mock(REAL, progress, problems=[5, 3], clock=lambda: at(14), stdin=io.StringIO("\n\nl\nq\n"),
                            stdout=out, timer=Minutes(), live_countdown=False, width=80)
    assert "Mock interview: 2 problems in 25:00" in out.getvalue()
    assert result.grades == {3: "lean"} and result.ended == "quit"
    with pytest.raises(ValueError, match="numbered 1 to 5"):
        drill.run_mock(REAL, progress, problems=[6], stdin=io.StringIO(""), stdout=io.StringIO())


# ---------------------------------------------------------------------------------------------- command line


def run_cli(args, progress: Path, stdin: str = "", now: str = "2026-01-08T09:00:00+09:00"):
    env = {**os.environ, "CURRICULUM_DRILL_FILE": str(progress), "CURRICULUM_DRILL_NOW": now, "COLUMNS": "80"}
    env.pop("CURRICULUM_DRILL_DECK", None)
    env.pop("CURRICULUM_DRILL_TZ", None)
    return subprocess.run([sys.executable, "-m", "curriculum", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_plan_and_mock_on_the_command_line(tmp_path):
    path = tmp_path / "progress.json"
    first = run_cli(["drill", "--plan"], path)
    assert first.returncode == 0, first.stderr
    assert "Study plan start date (day 0): 2026-01-08." in first.stdout and "is day 0" in first.stdout
    moved = run_cli(["drill", "--plan", "--start", "2025-12-25"], path)
    assert "Study plan start date (day 0): 2025-12-25." in moved.stdout and "is day 14" in moved.stdout
    assert "run: python -m curriculum drill --mock --problem 3 --problem 5" in moved.stdout
    assert json.loads(path.read_text())["start_date"] == "2025-12-25"
    again = run_cli(["drill", "--plan"], path)
    assert "start date (day 0)" not in again.stdout and "is day 14" in again.stdout
    mock = run_cli(["drill", "--mock", "--problem", "3", "--problem", "5"], path, stdin="\n\ns\nl\n")
    assert mock.returncode == 0, mock.stderr
    assert "Mock interview saved: 2 graded (strong 1, lean 1, no 0)" in mock.stdout
    assert len(json.loads(path.read_text())["mocks"]) == 1
    done = run_cli(["drill", "--plan"], path)
    assert "timed: problem 3, Diffusion model design, 15 min (done 2026-01-08)" in done.stdout
    for args, message in ((["drill", "--start", "2026-01-01"], "argument --start: only with --plan"),
                          (["drill", "--plan", "--start", "1 May"], "the start date must be a calendar date"),
                          (["drill", "--mock", "--problem", "6"], "practice problem number from 1 to 5"),
                          (["drill", "--problem", "2"], "argument --problem: only with --mock")):
        result = run_cli(args, path)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
