"""Reviews on the learner's calendar days: a card due on the 4th is due from the start of the 4th in the zone the
learner is in now, across a time-zone change and a daylight-saving change; old files with UTC due times still
read; the --due daily cap. Every "now" is injected (a datetime with its zone, or CURRICULUM_DRILL_NOW/_TZ)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from curriculum import drill

ROOT = Path(__file__).resolve().parent.parent
TOKYO, NEW_YORK = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
CARD = drill.Card("vae-elbo", "vae", "Derivation", "p", 120, "a", drill.Rubric("s", "l", "n"), ("x", "y"))


def reviewed(grade: str, now: datetime, progress: drill.Progress | None = None) -> drill.Progress:
    progress = progress or drill.Progress()
    drill.record_review(progress, CARD, grade, now)
    return progress


def is_due(progress: drill.Progress, now: datetime) -> bool:
    return [card.id for card in drill.due_cards([CARD], progress, now)] == ["vae-elbo"]


def test_due_from_the_start_of_the_local_day_not_the_hour_of_the_review():
    # reviewed late in the evening in New York: 23:30 on 1 January is already 2 January in UTC
    progress = reviewed("strong", datetime(2026, 1, 1, 23, 30, tzinfo=NEW_YORK))
    assert progress.state("vae-elbo").due == date(2026, 1, 4)
    assert progress.cards["vae-elbo"]["due"] == "2026-01-04"
    assert not is_due(progress, datetime(2026, 1, 3, 23, 59, tzinfo=NEW_YORK))
    assert is_due(progress, datetime(2026, 1, 4, 0, 1, tzinfo=NEW_YORK))  # exact-time UTC scheduling: 04:30Z on the 5th
    assert is_due(progress, datetime(2026, 1, 4, 8, 0, tzinfo=NEW_YORK))  # "due 2026-01-04" means that morning too


def test_a_flight_from_tokyo_to_new_york():
    """Reviewed on 1 January in Tokyo (UTC+9), checked in New York (UTC-5): the day that counts is the day
    where the learner is now."""
    progress = reviewed("strong", datetime(2026, 1, 1, 8, 0, tzinfo=TOKYO))  # 2025-12-31T23:00Z
    assert progress.state("vae-elbo").due == date(2026, 1, 4)
    still_the_3rd = datetime(2026, 1, 3, 23, 30, tzinfo=NEW_YORK)  # 13:30 on the 4th in Tokyo
    assert not is_due(progress, still_the_3rd)
    assert is_due(progress, datetime(2026, 1, 4, 0, 5, tzinfo=NEW_YORK))
    stats = drill.drill_stats(drill.Deck(), progress, still_the_3rd)
    assert stats.due_now == 0
    # and the other way: a card reviewed in New York is due on its day in Tokyo too
    back = reviewed("strong", datetime(2026, 1, 1, 20, 0, tzinfo=NEW_YORK))  # 2 January 10:00 in Tokyo
    assert back.state("vae-elbo").due == date(2026, 1, 4)
    assert is_due(back, datetime(2026, 1, 4, 0, 5, tzinfo=TOKYO))


def test_across_the_daylight_saving_change():
    # clocks go forward in New York on 8 March 2026 (02:00 EST becomes 03:00 EDT)
    progress = reviewed("strong", datetime(2026, 3, 6, 23, 30, tzinfo=NEW_YORK))  # EST, UTC-5
    assert progress.state("vae-elbo").due == date(2026, 3, 9)
    first_minute = datetime(2026, 3, 9, 0, 1, tzinfo=NEW_YORK)  # EDT, UTC-4: 3 days minus an hour later
    assert first_minute - datetime(2026, 3, 6, 23, 30, tzinfo=NEW_YORK) < timedelta(days=3)
    assert not is_due(progress, datetime(2026, 3, 8, 23, 59, tzinfo=NEW_YORK))
    assert is_due(progress, first_minute)
    # and back in November (clocks go back on 1 November 2026): still calendar days
    autumn = reviewed("lean", datetime(2026, 10, 30, 0, 30, tzinfo=NEW_YORK))
    assert autumn.state("vae-elbo").due == date(2026, 11, 2)
    assert is_due(autumn, datetime(2026, 11, 2, 0, 0, tzinfo=NEW_YORK))
    assert not is_due(autumn, datetime(2026, 11, 1, 23, 59, tzinfo=NEW_YORK))


def test_old_files_with_utc_due_times_still_read(tmp_path):
    path = tmp_path / "progress.json"
    review = {"time": "2026-01-01T02:00:00Z", "grade": "strong", "seconds": 30.0, "over_limit": False}
    path.write_text(json.dumps({"version": 1, "cards": {
        "vae-elbo": {"box": 1, "due": "2026-01-04T02:00:00Z", "reviews": [review]}}, "skills": []}))
    progress = drill.load_progress(path)
    assert progress.notices == []
    # the old due time is read as the day it falls on where the learner is
    assert progress.state("vae-elbo", datetime(2026, 1, 2, tzinfo=timezone.utc)).due == date(2026, 1, 4)
    assert progress.state("vae-elbo", datetime(2026, 1, 2, tzinfo=NEW_YORK)).due == date(2026, 1, 3)
    assert is_due(progress, datetime(2026, 1, 3, 0, 1, tzinfo=NEW_YORK))  # 21:00 on the 3rd there
    # an untouched old entry goes back to the file as it came; a new review writes a day
    drill.record_review(progress, drill.Card("vae-other", "vae", "Derivation", "p", 60, "a",
                                             drill.Rubric("s", "l", "n"), ("x", "y")), "lean",
                        datetime(2026, 1, 2, 9, tzinfo=timezone.utc))
    drill.save_progress(progress)
    raw = json.loads(path.read_text())
    assert raw["cards"]["vae-elbo"]["due"] == "2026-01-04T02:00:00Z"
    assert raw["cards"]["vae-other"]["due"] == "2026-01-05"
    # reviewing the old card again replaces its due time with a day, counted from its old box
    drill.record_review(progress, CARD, "strong", datetime(2026, 1, 4, 9, tzinfo=timezone.utc))
    assert progress.cards["vae-elbo"]["due"] == "2026-01-11" and progress.cards["vae-elbo"]["box"] == 2


def test_when_text_counts_calendar_days():
    evening = datetime(2026, 1, 1, 23, 0, tzinfo=TOKYO)
    assert drill.clock.when_text(date(2026, 1, 1), evening) == "today"
    assert drill.clock.when_text(date(2026, 1, 2), evening) == "tomorrow (2026-01-02)"
    assert drill.clock.when_text(date(2026, 1, 4), evening) == "in 3 days (2026-01-04)"
    assert drill.local_date(evening) == date(2026, 1, 1)
    assert drill.local_date(evening, datetime(2026, 1, 1, tzinfo=NEW_YORK)) == date(2026, 1, 1)
    assert drill.local_date(datetime(2026, 1, 1, 23, 0)) == date(2026, 1, 1)  # naive: UTC


def test_the_learners_zone_and_the_clock_overrides(monkeypatch):
    monkeypatch.delenv(drill.NOW_ENV, raising=False)
    monkeypatch.setenv(drill.TZ_ENV, "Asia/Tokyo")
    assert drill.current_time().utcoffset() == timedelta(hours=9)
    monkeypatch.setenv(drill.NOW_ENV, "2026-01-03T20:00:00Z")  # 05:00 on the 4th in Tokyo
    assert drill.local_date(drill.current_time()) == date(2026, 1, 4)
    monkeypatch.setenv(drill.TZ_ENV, "-05:00")
    assert drill.local_date(drill.current_time()) == date(2026, 1, 3)
    monkeypatch.delenv(drill.TZ_ENV)
    assert drill.current_time().utcoffset() == timedelta(0)  # the override's own offset (Z) is the zone
    monkeypatch.setenv(drill.NOW_ENV, "2026-01-03T20:00:00-05:00")
    assert drill.current_time().utcoffset() == timedelta(hours=-5)
    monkeypatch.setenv(drill.TZ_ENV, "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="CURRICULUM_DRILL_TZ must be an IANA time zone"):
        drill.current_time()


def test_the_daily_cap(tmp_path):
    cards = [drill.Card(f"vae-card-{n}", "vae", "Derivation", "p", 60, "a", drill.Rubric("s", "l", "n"),
                        ("x", "y")) for n in range(8)]
    now = datetime(2026, 1, 5, 9, tzinfo=TOKYO)
    progress = drill.Progress()
    due = drill.due_cards(cards, progress, now)
    allowed, waiting, done = drill.daily_allowance(due, progress, now, cap=5)
    assert (len(allowed), len(waiting), done) == (5, 3, 0)
    for card in allowed[:3]:  # three reviewed today, one of them a miss that is due again
        drill.record_review(progress, card, "strong" if card is not allowed[0] else "no", now)
    due = drill.due_cards(cards, progress, now)
    allowed, waiting, done = drill.daily_allowance(due, progress, now, cap=5)
    assert done == 3 and allowed[0] is cards[0] and len(allowed) == 3  # the miss, plus two new ones
    assert [card.id for card in waiting] == [card.id for card in cards[5:]]
    tomorrow = datetime(2026, 1, 6, 0, 0, tzinfo=TOKYO)
    assert drill.daily_allowance(drill.due_cards(cards, progress, tomorrow), progress, tomorrow, cap=5)[2] == 0
    with pytest.raises(ValueError, match="cap must be a positive integer"):
        drill.daily_allowance(due, progress, now, cap=0)


def _cli(args, env, stdin=""):
    return subprocess.run([sys.executable, "-m", "curriculum", *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=ROOT, timeout=120)


@pytest.fixture
def small_deck(tmp_path):
    folder = tmp_path / "cards"
    folder.mkdir()
    cards = [{"id": f"vae-card-{n}", "topic": "vae", "section": "Derivation", "prompt": f"Question {n}.",
              "time_limit_s": 60, "answer": f"Answer {n}.",
              "rubric": {"strong_hire": "all", "lean_hire": "some", "no_hire": "none"},
              "red_flags": ["one", "two"]} for n in range(4)]
    (folder / "vae.json").write_text(json.dumps({"topic": "vae", "title": "VAE", "notebook": "01_vae_elbo.ipynb",
                                                 "skills": ["a", "b"], "cards": cards}))
    return {"CURRICULUM_DRILL_DECK": str(folder), "CURRICULUM_DRILL_FILE": str(tmp_path / "progress.json")}


def test_the_command_line_cap_and_what_is_not_due(small_deck):
    evening = {**small_deck, "CURRICULUM_DRILL_NOW": "2026-01-01T22:00:00", "CURRICULUM_DRILL_TZ": "Asia/Tokyo"}
    first = _cli(["drill", "--due", "--daily-cap", "2"], evening, stdin="\ns\n\nl\n")
    assert first.returncode == 0, first.stderr
    assert "Daily cap: 2 cards a day (0 reviewed today), so 2 due card(s) wait for tomorrow" in first.stdout
    assert "Drill: 2 cards." in first.stdout and "Session complete: 2 card(s) graded" in first.stdout
    # 22:00 UTC is 07:00 on 2 January in Tokyo: the reviews are on the 2nd, due on the 5th
    saved = json.loads(Path(small_deck["CURRICULUM_DRILL_FILE"]).read_text())
    assert saved["cards"]["vae-card-0"]["due"] == "2026-01-05" and saved["start_date"] == "2026-01-02"
    again = _cli(["drill", "--due", "--daily-cap", "2"], evening)
    assert again.returncode == 0 and "Daily cap: 2 cards a day (2 reviewed today)" in again.stdout
    assert "Drill:" not in again.stdout and "Nothing due today" not in again.stdout
    # plain drill names the cards that are not due yet instead of mixing them in silently
    plain = _cli(["drill"], evening)
    said = " ".join(plain.stdout.split())  # the note is wrapped to the width
    assert "2 of these cards are not due yet and come after the due ones as early reviews:" in said
    assert "vae-card-0 (due 2026-01-05)" in said and "not due until 2026-01-05" not in said
    assert "[1/4] vae-card-2" in plain.stdout  # the due ones first
    nothing = _cli(["drill", "--due", "--topic", "vae", "--daily-cap", "9"],
                   {**evening, "CURRICULUM_DRILL_NOW": "2026-01-02T22:00:00"}, stdin="\ns\n\ns\n")
    assert "Session complete: 2 card(s) graded" in nothing.stdout  # the next day, the two that waited
    after = _cli(["drill", "--due"], {**evening, "CURRICULUM_DRILL_NOW": "2026-01-02T22:00:00"})
    assert after.stdout.strip() == "Nothing due today. Next review: vae-card-0 on 2026-01-05."
    usage = _cli(["drill", "--daily-cap", "3"], evening)
    assert usage.returncode == 2 and "argument --daily-cap: only with --due" in usage.stderr
