"""The interview drill: deck loading, Leitner scheduling with a fake clock, the progress file's safety, skills,
notebook rendering and the widget (driven by calling its button handlers)."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from curriculum import drill

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=timezone.utc)
D0 = T0.date()  # T0's calendar day (T0 is in UTC)
DAY = timedelta(days=1)
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------- synthetic decks


def make_card(topic: str, name: str, **changes) -> dict:
    card = {
        "id": f"{topic}-{name}",
        "topic": topic,
        "section": "Derivation",
        "prompt": f"Derive {name} on the whiteboard ({topic}).",
        "time_limit_s": 120,
        "answer": f"1. First step of {name}: $\\log p(x) \\ge \\mathrm{{ELBO}}$, by Jensen.\n2. Second step.\n\n"
                  f"Takeaway for {name}.",
        "rubric": {"strong_hire": f"all steps of {name}", "lean_hire": "half the steps", "no_hire": "no steps"},
        "red_flags": [f"{name} needs no assumptions.", "The bound is an equality."],
    }
    card.update(changes)
    return card


def topic_file(topic: str, cards: list[dict], **changes) -> dict:
    data = {"topic": topic, "title": f"{topic.upper()} title", "notebook": drill.NOTEBOOKS[topic],
            "skills": [f"{topic} skill one", f"{topic} skill two"], "cards": cards}
    data.update(changes)
    return data


def write_deck(folder: Path, files: dict[str, dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, data in files.items():
        (folder / f"{stem}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder


@pytest.fixture
def deck(tmp_path) -> drill.Deck:
    files = {
        "gan": topic_file("gan", [make_card("gan", "jsd"), make_card("gan", "mode-collapse", section="Failure modes")]),
        "vae": topic_file("vae", [make_card("vae", "elbo"), make_card("vae", "jensen", time_limit_s=60),
                                  make_card("vae", "collapse")]),
    }
    return drill.load_deck(write_deck(tmp_path / "cards", files))


# ---------------------------------------------------------------------------------------------- the deck


def test_load_deck_order_and_lookup(deck):
    assert deck.topics == ("vae", "gan")  # course order, not file-name order
    assert [card.id for card in deck] == ["vae-elbo", "vae-jensen", "vae-collapse", "gan-jsd", "gan-mode-collapse"]
    assert len(deck) == 5 and "vae-elbo" in deck
    card = deck.get("vae-jensen")
    assert card.time_limit_s == 60 and card.rubric.no_hire == "no steps" and len(card.red_flags) == 2
    assert [c.id for c in deck.by_topic("gan")] == ["gan-jsd", "gan-mode-collapse"]
    assert deck.skills("vae") == ("vae skill one", "vae skill two")
    with pytest.raises(ValueError, match=r"topic must be one of vae, gan; got 'nope'"):
        deck.by_topic("nope")
    with pytest.raises(KeyError, match="card_id 'vae-nope'"):
        deck.get("vae-nope")


def test_validate_card_accepts_a_good_card_and_names_each_problem():
    assert drill.validate_card(make_card("vae", "elbo")) == []
    bad = make_card("vae", "elbo", time_limit_s=30, section="Proof", red_flags=[], id="VAE_elbo")
    del bad["answer"]
    bad["rubric"] = {"strong_hire": "x", "lean_hire": " "}
    problems = "\n".join(drill.validate_card(bad))
    for expected in ("missing field 'answer'", "'time_limit_s' must be a whole number of seconds in [60, 600], got 30",
                     "'section' must be one of", "'red_flags' must be a list of 2 to 4", "'vae-' followed by",
                     "missing the level 'no_hire'", "'rubric.lean_hire' must be a non-empty string"):
        assert expected in problems
    assert drill.validate_card(make_card("vae", "elbo"), topic="gan")[0].startswith("field 'topic' is 'vae'")
    assert "unknown field(s) 'hint'" in drill.validate_card(make_card("vae", "elbo", hint="x"))[0]
    assert drill.validate_card(["not", "a", "card"]) == ["a card must be a JSON object, got a list"]
    # topics with an underscore keep it in the id prefix; notebook 00 has its own section names
    assert drill.validate_card(make_card("latent_cfg", "guidance-scale", section="Cheat sheet")) == []
    assert drill.validate_card(make_card("foundations", "entropy", section="The task")) == []
    assert drill.validate_card(make_card("foundations", "entropy", section="Intuition")) != []


def test_load_deck_reports_file_card_and_field(tmp_path):
    broken = make_card("vae", "elbo")
    del broken["rubric"]
    folder = write_deck(tmp_path / "cards", {
        "vae": topic_file("vae", [broken, make_card("vae", "twice"), make_card("vae", "twice")]),
        "gan": topic_file("vae", [make_card("vae", "other")]),
    })
    (folder / "wgan.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(drill.DeckError) as caught:
        drill.load_deck(folder)
    message = str(caught.value)
    assert f"{folder / 'vae.json'}: card 'vae-elbo': missing field 'rubric'" in message
    assert "card 'vae-twice': id used twice in this file" in message
    assert f"{folder / 'gan.json'}: field 'topic' is 'vae' but the file is named gan.json" in message
    assert f"{folder / 'wgan.json'}: cannot be read as JSON" in message
    with pytest.raises(drill.DeckError, match="does not exist"):
        drill.load_deck(tmp_path / "missing")


def test_deck_refuses_duplicate_ids(tmp_path):
    # within a file the validator reports a repeated id (above); two files can never share one, since an id
    # starts with its file's topic; the Deck itself still refuses duplicates however it is built
    vae = drill.load_deck(write_deck(tmp_path / "cards", {"vae": topic_file("vae", [make_card("vae", "elbo")])}))
    clash = drill.TopicCards("gan", "GAN", drill.NOTEBOOKS["gan"], ("a", "b"), vae.by_topic("vae"))
    with pytest.raises(drill.DeckError, match="card ids must be unique"):
        drill.Deck([vae.topic("vae"), clash])


def test_empty_folder_gives_an_empty_deck(tmp_path):
    (tmp_path / "cards").mkdir()
    empty = drill.load_deck(tmp_path / "cards")
    assert len(empty) == 0 and empty.topics == ()


# ---------------------------------------------------------------------------------------------- scheduling


def test_new_card_is_in_box_0_and_due_today(deck):
    progress = drill.Progress()
    state = progress.state("vae-elbo", T0)
    assert (state.box, state.due, state.reviews, state.is_new) == (0, D0, (), True)
    assert len(drill.due_cards(deck, progress, T0)) == len(deck)


def test_strong_climbs_the_boxes_and_stays_at_4():
    state, now = drill.CardState(box=0, due=D0), T0
    seen = []
    for _ in range(6):
        state = drill.review(state, "strong", now, seconds=30, time_limit_s=120)
        seen.append((state.box, (state.due - now.date()).days))
        now = datetime.combine(state.due, T0.timetz())  # reviewed on the day it is due
    assert seen == [(1, 3), (2, 7), (3, 14), (4, 21), (4, 21), (4, 21)]
    assert [r.grade for r in state.reviews] == ["strong"] * 6 and state.reviews[0].time == T0


@pytest.mark.parametrize("box, grade, new_box, days", [
    (0, "lean", 1, 3), (1, "lean", 1, 3), (3, "lean", 3, 14), (4, "lean", 4, 21),
    (0, "no", 0, 0), (3, "no", 0, 0), (4, "no", 0, 0),
    (0, "strong", 1, 3), (3, "strong", 4, 21), (4, "strong", 4, 21),
])
def test_each_grade_moves_the_card_as_documented(box, grade, new_box, days):
    state = drill.schedule(drill.CardState(box=box, due=D0), grade, T0 + DAY)
    assert state.box == new_box == drill.next_box(box, grade)
    assert state.due == D0 + DAY + days * DAY
    assert drill.INTERVALS_DAYS == (0, 3, 7, 14, 21)


def test_a_miss_is_due_now_and_lean_comes_back_in_three_days(deck):
    progress = drill.Progress()
    drill.record_review(progress, deck.get("vae-elbo"), "no", T0, seconds=10)
    drill.record_review(progress, deck.get("vae-jensen"), "lean", T0, seconds=10)
    due = [card.id for card in drill.due_cards(deck, progress, T0 + timedelta(hours=1))]
    assert "vae-elbo" in due and "vae-jensen" not in due
    assert "vae-jensen" in [c.id for c in drill.due_cards(deck, progress, T0 + 3 * DAY)]


def test_review_records_time_taken_and_overtime():
    state = drill.review(drill.CardState(due=D0), "lean", T0, seconds=150.25, time_limit_s=120)
    (record,) = state.reviews
    assert (record.grade, record.seconds, record.over_limit, record.time_limit_s) == ("lean", 150.25, True, 120)
    assert record.to_json() == {"time": "2025-01-01T09:00:00Z", "grade": "lean", "seconds": 150.2,
                                "time_limit_s": 120, "over_limit": True}
    assert not drill.review(drill.CardState(due=D0), "lean", T0, seconds=120, time_limit_s=120).reviews[0].over_limit


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"grade must be one of 'strong', 'lean', 'no'; got 'maybe'"):
        drill.next_box(0, "maybe")
    with pytest.raises(ValueError, match=r"box must be an integer in \[0, 4\], got 5"):
        drill.next_box(5, "strong")
    with pytest.raises(ValueError, match="seconds must be a non-negative number"):
        drill.review(drill.CardState(due=D0), "no", T0, seconds=-1)
    with pytest.raises(TypeError, match="now must be a datetime"):
        drill.schedule(drill.CardState(), "no", "2025-01-01")


def test_due_cards_are_ordered_by_due_time_then_id(deck):
    progress = drill.Progress()
    # overdue cards first (oldest due first), then new cards (due now) by id; future cards are left out
    drill.record_review(progress, deck.get("vae-jensen"), "no", T0 - 2 * DAY)
    drill.record_review(progress, deck.get("gan-mode-collapse"), "no", T0 - 5 * DAY)
    drill.record_review(progress, deck.get("vae-elbo"), "strong", T0)
    due = [card.id for card in drill.due_cards(deck, progress, T0)]
    assert due == ["gan-mode-collapse", "vae-jensen", "gan-jsd", "vae-collapse"]
    assert [c.id for c in drill.due_cards(deck, progress, T0, topic="vae")] == ["vae-jensen", "vae-collapse"]
    everything = drill.session_cards(deck, progress, T0)
    assert everything[-1].id == "vae-elbo" and len(everything) == 5
    assert [c.id for c in drill.session_cards(deck, progress, T0, due_only=True, limit=2)] == due[:2]
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        drill.session_cards(deck, progress, T0, limit=0)


def test_time_parsing_and_the_clock_override(monkeypatch):
    assert drill.parse_time("2025-01-01T10:00:00+01:00") == T0
    assert drill.parse_time("2025-01-01T09:00:00") == T0  # no zone: UTC
    assert drill.format_time(T0 + timedelta(microseconds=5)) == "2025-01-01T09:00:00Z"
    monkeypatch.setenv(drill.NOW_ENV, "2025-01-01T09:00:00Z")
    assert drill.current_time() == T0
    monkeypatch.setenv(drill.NOW_ENV, "yesterday")
    with pytest.raises(ValueError, match="CURRICULUM_DRILL_NOW must be an ISO 8601 time"):
        drill.current_time()


# ---------------------------------------------------------------------------------------------- the progress file


def test_progress_round_trip(tmp_path, deck):
    path = tmp_path / "progress.json"
    progress = drill.load_progress(path)
    assert progress.cards == {} and progress.notices == [] and not path.exists()
    drill.record_review(progress, deck.get("vae-elbo"), "strong", T0, seconds=42.0)
    drill.record_review(progress, deck.get("gan-jsd"), "no", T0, seconds=200.0)
    drill.record_skills(progress, {drill.skill_key("vae", "vae skill one"): 3}, T0)
    assert drill.save_progress(progress) == path
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(raw) == {"version", "start_date", "cards", "skills", "last_review"} and raw["version"] == 1
    assert raw["last_review"] == {"card": "gan-jsd", "time": "2025-01-01T09:00:00Z"}
    assert raw["start_date"] == "2025-01-01"  # the first review starts the study plan
    assert raw["cards"]["vae-elbo"] == {"box": 1, "due": "2025-01-04", "reviews": [
        {"time": "2025-01-01T09:00:00Z", "grade": "strong", "seconds": 42.0, "time_limit_s": 120,
         "over_limit": False, "before": {"box": 0, "due": None}}]}
    assert raw["cards"]["gan-jsd"]["reviews"][0]["over_limit"] is True
    assert raw["skills"] == [{"time": "2025-01-01T09:00:00Z", "ratings": {"vae: vae skill one": 3}}]
    again = drill.load_progress(path)
    assert again.cards == progress.cards and again.skills == progress.skills and again.notices == []
    assert again.state("vae-elbo", T0) == progress.state("vae-elbo", T0)


def test_default_path_and_environment_override(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv(drill.FILE_ENV, raising=False)
    assert drill.progress_path() == Path(platformdirs.user_data_dir("genmodels-curriculum")) / "drill_progress.json"
    monkeypatch.setenv(drill.FILE_ENV, str(tmp_path / "mine.json"))
    assert drill.progress_path() == tmp_path / "mine.json"
    assert drill.progress_path(tmp_path / "explicit.json") == tmp_path / "explicit.json"


def test_missing_directory_is_created(tmp_path, deck):
    path = tmp_path / "not" / "yet" / "there" / "progress.json"
    progress = drill.load_progress(path)
    drill.record_review(progress, deck.get("vae-elbo"), "lean", T0)
    drill.save_progress(progress)
    assert drill.load_progress(path).state("vae-elbo").box == 1


KILL_CHILD = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime, timezone
    from curriculum import drill
    import curriculum.io

    path = sys.argv[1]
    progress = drill.load_progress(path)
    card = drill.Card("vae-elbo", "vae", "Derivation", "p", 120, "a", drill.Rubric("s", "l", "n"), ("x", "y"))
    for day in range(1, 200):  # a bigger file than before, so the write is not a single tiny block
        drill.record_review(progress, card, "strong", datetime(2025, 2, 1, tzinfo=timezone.utc), seconds=day)

    def killed_mid_write(src, dst):  # the temporary file is complete, the rename has not happened: die now
        os.kill(os.getpid(), signal.SIGKILL)

    os.replace = killed_mid_write
    drill.save_progress(progress)
    print("not reached")
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_kill_mid_write_leaves_the_previous_file_intact(tmp_path, deck):
    path = tmp_path / "store" / "progress.json"
    progress = drill.load_progress(path)
    drill.record_review(progress, deck.get("vae-elbo"), "no", T0, seconds=5)
    drill.save_progress(progress)
    before = path.read_bytes()
    child = subprocess.run([sys.executable, "-c", KILL_CHILD, str(path)], capture_output=True, text=True,
                           cwd=ROOT, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "not reached" not in child.stdout
    assert path.read_bytes() == before
    leftovers = [p for p in path.parent.iterdir() if p.name not in ("progress.json", ".progress.json.lock")]
    assert leftovers and all(p.name.startswith(".progress.json.") and p.name.endswith(".tmp") for p in leftovers)
    assert all(p.stat().st_size > 10_000 for p in leftovers)  # the whole new file, orphaned
    survived = drill.load_progress(path)  # the next start cleans up
    (notice,) = survived.notices
    assert "Removed 1 temporary file(s)" in notice and str(path) in notice
    assert not any(p.exists() for p in leftovers) and len(survived.state("vae-elbo").reviews) == 1
    drill.record_review(survived, deck.get("vae-elbo"), "strong", T0)
    drill.save_progress(survived)
    assert drill.load_progress(path).state("vae-elbo").box == 1


def _corrupt_copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".corrupt-*"))


@pytest.mark.parametrize("content", [
    b"{ this is not json",
    b"",
    b"\xff\xfe not utf-8",
    b"[1, 2, 3]",
    b'{"version": 2, "cards": {}, "skills": []}',
    b'{"version": 1, "cards": [], "skills": []}',
    b'{"version": 1, "cards": {"vae-elbo": {"box": 9, "due": "2025-01-01T09:00:00Z", "reviews": []}}}',
    b'{"version": 1, "cards": {"vae-elbo": {"box": 1, "due": "soon", "reviews": []}}}',
    b'{"version": 1, "cards": {}, "skills": [{"time": "2025-01-01T09:00:00Z", "ratings": {"x": 7}}]}',
], ids=["bad-json", "empty", "not-utf8", "a-list", "version-2", "cards-not-object", "box-9", "bad-due",
        "rating-7"])
def test_a_corrupt_file_is_moved_aside_and_progress_starts_fresh(tmp_path, deck, content):
    path = tmp_path / "progress.json"
    path.write_bytes(content)
    progress = drill.load_progress(path, now=T0)
    (notice,) = progress.notices
    (aside,) = _corrupt_copies(path)
    assert aside.name == "progress.json.corrupt-20250101T090000Z"
    assert str(path) in notice and str(aside) in notice
    assert aside.read_bytes() == content  # the original bytes, untouched
    assert not path.exists() and progress.cards == {} and progress.skills == []
    drill.record_review(progress, deck.get("vae-elbo"), "strong", T0)
    drill.save_progress(progress)
    assert drill.load_progress(path).state("vae-elbo").box == 1
    assert aside.read_bytes() == content


def test_two_corruptions_in_the_same_second_keep_both_copies(tmp_path):
    path = tmp_path / "progress.json"
    for content in (b"first", b"second"):
        path.write_bytes(content)
        drill.load_progress(path, now=T0)
    assert [p.read_bytes() for p in _corrupt_copies(path)] == [b"first", b"second"]


def test_an_unreadable_file_is_not_taken_for_a_corrupt_one(tmp_path, monkeypatch):
    """A permission error while reading (simulated, so it also holds when the tests run as root, whom chmod 000
    does not stop; tests/test_drill_safety.py has the real thing) is an error naming the file, and nothing is
    moved aside or replaced."""
    path = tmp_path / "progress.json"
    content = '{"version": 1, "cards": {}, "skills": []}'
    path.write_text(content)
    real_read_bytes = Path.read_bytes

    def refuse(self):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(drill.UnreadableProgressFile, match="permission denied") as caught:
        drill.load_progress(path, now=T0)
    monkeypatch.undo()
    assert str(path) in str(caught.value) and "nothing was moved or replaced" in str(caught.value)
    assert _corrupt_copies(path) == [] and path.read_text() == content


def test_a_directory_at_the_file_path_is_moved_aside(tmp_path, deck):
    path = tmp_path / "progress.json"
    path.mkdir()
    (path / "keep.txt").write_text("mine")
    progress = drill.load_progress(path, now=T0)
    (aside,) = _corrupt_copies(path)
    assert "cannot be read" in progress.notices[0] and str(path) in progress.notices[0]
    assert (aside / "keep.txt").read_text() == "mine"
    drill.record_review(progress, deck.get("vae-elbo"), "lean", T0)
    drill.save_progress(progress)
    assert path.is_file()


def test_progress_for_unknown_cards_is_ignored_and_kept(tmp_path, deck):
    path = tmp_path / "progress.json"
    removed = {"box": 3, "due": "2024-12-01T00:00:00Z", "reviews": [
        {"time": "2024-11-17T00:00:00Z", "grade": "strong", "seconds": 12.5, "over_limit": False}],
        "note": "a key this version does not know"}
    path.write_text(json.dumps({"version": 1, "cards": {"vae-renamed-long-ago": removed}, "skills": [],
                                "written_by": "a later version"}))
    progress = drill.load_progress(path)
    assert progress.notices == []
    assert "vae-renamed-long-ago" not in [c.id for c in drill.due_cards(deck, progress, T0)]
    assert drill.drill_stats(deck, progress, T0).reviews == 0
    drill.record_review(progress, deck.get("vae-elbo"), "strong", T0)
    drill.save_progress(progress)
    raw = json.loads(path.read_text())
    assert raw["cards"]["vae-renamed-long-ago"] == removed and raw["written_by"] == "a later version"
    assert raw["cards"]["vae-elbo"]["box"] == 1


def test_two_sessions_saving_to_one_file_keep_each_others_reviews(tmp_path, deck):
    path = tmp_path / "progress.json"
    terminal, notebook = drill.load_progress(path), drill.load_progress(path)
    drill.record_review(terminal, deck.get("vae-elbo"), "strong", T0)
    drill.save_progress(terminal)
    drill.record_review(notebook, deck.get("gan-jsd"), "lean", T0)
    drill.record_skills(notebook, {"vae: vae skill one": 2}, T0)
    drill.save_progress(notebook)
    merged = drill.load_progress(path)
    assert merged.state("vae-elbo").box == 1 and merged.state("gan-jsd").box == 1
    assert len(merged.skills) == 1


# ---------------------------------------------------------------------------------------------- skills and stats


def test_skill_ratings_over_time(tmp_path):
    path = tmp_path / "progress.json"
    progress = drill.load_progress(path)
    one, two = drill.skill_key("vae", "vae skill one"), drill.skill_key("vae", "vae skill two")
    drill.record_skills(progress, {one: 2, two: 4}, T0)
    drill.record_skills(progress, {one: 3}, T0 + 7 * DAY)
    drill.record_skills(progress, {one: 5, two: 3}, T0 + 14 * DAY)
    assert drill.record_skills(progress, {}, T0) is None
    drill.save_progress(progress)
    trends = drill.skill_progress(drill.load_progress(path))
    assert (trends[one].first, trends[one].latest, trends[one].change) == (2, 5, 3)
    assert (trends[two].first, trends[two].latest, trends[two].change) == (4, 3, -1)
    assert [rating for _, rating in trends[one].history] == [2, 3, 5]
    assert trends[one].first_time == T0 and trends[one].latest_time == T0 + 14 * DAY
    with pytest.raises(ValueError, match=r"ratings\['vae: vae skill one'\] must be an integer in \[1, 5\], got 6"):
        drill.record_skills(progress, {one: 6}, T0)


def test_stats_summary(deck):
    progress = drill.Progress(path=Path("progress.json"))
    drill.record_review(progress, deck.get("vae-elbo"), "strong", T0)       # box 1, due in 3 days
    drill.record_review(progress, deck.get("vae-jensen"), "no", T0)         # box 0, due now
    drill.record_review(progress, deck.get("gan-jsd"), "lean", T0)          # box 1, due in 3 days
    drill.record_review(progress, deck.get("gan-jsd"), "strong", T0 + 3 * DAY)  # box 2, due in 10 days
    drill.record_skills(progress, {"vae: vae skill one": 2}, T0)
    drill.record_skills(progress, {"vae: vae skill one": 4}, T0 + DAY)
    stats = drill.drill_stats(deck, progress, T0 + DAY)
    assert stats.per_box == (3, 1, 1, 0, 0) and stats.new == 2 and stats.reviews == 4
    assert stats.due_now == 3 and stats.due_next_7_days == 1
    assert stats.grades_by_topic == {"vae": {"strong": 1, "lean": 0, "no": 1}, "gan": {"strong": 1, "lean": 1, "no": 0}}
    text = drill.format_stats(deck, progress, T0 + DAY)
    assert "box 0 ( 0 days):    3  (2 never reviewed)" in text
    assert "vae    2 reviews: 1 / 0 / 1   accuracy 50%" in text
    assert "vae: vae skill one: 2 -> 4 (+2)" in text and "3 skill(s) not rated yet" in text
    assert "Due today: 3" in text and "Due in the next 7 days (after today): 1" in text
    assert drill.drill_stats(deck, progress, T0 + DAY, topic="gan").per_box == (1, 0, 1, 0, 0)


# ---------------------------------------------------------------------------------------------- terminal session


class FakeTimer:
    def __init__(self, step: float):
        self.value, self.step = 0.0, step

    def __call__(self) -> float:
        self.value += self.step
        return self.value


def test_run_session_records_elapsed_time_and_overtime(tmp_path, deck):
    progress = drill.load_progress(tmp_path / "p.json")
    cards = [deck.get("vae-jensen"), deck.get("vae-elbo")]  # limits 60 s and 120 s
    out = io.StringIO()
    result = drill.run_session(cards, progress, deck=deck, clock=lambda: T0, stdin=io.StringIO("\nl\n\ns\n"),
                               stdout=out, timer=FakeTimer(step=90.0), live_countdown=False)
    assert result.graded == [("vae-jensen", "lean"), ("vae-elbo", "strong")] and result.ended == "done"
    saved = drill.load_progress(tmp_path / "p.json")
    first = saved.state("vae-jensen").reviews[0]
    assert (first.seconds, first.over_limit) == (90.0, True)  # the fake timer advances 90 s per call: 90 s > 60 s
    assert saved.state("vae-elbo").reviews[0].over_limit is False
    assert "over the limit by 0:30" in out.getvalue()


def test_live_countdown_rewrites_one_line(deck, tmp_path):
    class SlowInput(io.StringIO):
        def readline(self, *args):
            time.sleep(0.2)  # the candidate thinks; the countdown thread ticks meanwhile
            return super().readline(*args)

    out = io.StringIO()
    drill.run_session([deck.get("vae-elbo")], drill.load_progress(tmp_path / "p.json"), deck=deck,
                      clock=lambda: T0, stdin=SlowInput("\nq\n"), stdout=out, live_countdown=True, tick_s=0.02)
    text = out.getvalue()
    assert "\r  2:00 left" in text and text.count("\r") >= 3
    assert not [t for t in __import__("threading").enumerate() if t.name == "drill-countdown"]


# ---------------------------------------------------------------------------------------------- notebook rendering


def test_render_cards_folds_answers_away(deck):
    rendered = drill.render_cards("vae", deck=deck)
    text = rendered._repr_markdown_()
    assert text == rendered.data == drill.render_cards("vae", deck=deck).data  # deterministic
    for card in deck.by_topic("vae"):
        assert card.prompt in text and card.answer in text and card.rubric.strong_hire in text
        assert card.red_flags[0] in text and card.id in text
    assert text.count("<details>") == text.count("</details>") == 3
    assert "time limit: 1 min" in text and "time limit: 2 min" in text and "section: Derivation" in text
    assert "<summary>Model answer, rubric and red flags</summary>\n\n" in text and "\n\n</details>" in text
    assert text.index("> Derive elbo") < text.index("<details>") < text.index("1. First step of elbo")
    with pytest.raises(ValueError, match="topic must be one of vae, gan"):
        drill.render_cards("diffusion", deck=deck)


def test_render_cards_on_the_real_deck():
    real = drill.load_deck()
    for topic in real.topics:
        text = drill.render_cards(topic).data
        assert text.count("<details>") == len(real.by_topic(topic))
        for card in real.by_topic(topic):
            assert card.prompt.splitlines()[0] in text


# ---------------------------------------------------------------------------------------------- the widget


def test_widget_reveal_grade_save_and_next(tmp_path, deck):
    path = tmp_path / "widget" / "progress.json"
    timer = FakeTimer(step=1.0)
    widget = drill.drill_widget(topic="vae", progress_file=path, deck=deck, clock=lambda: T0, timer=timer,
                                tick_s=0.01)
    try:
        assert [c.id for c in widget.cards] == ["vae-collapse", "vae-elbo", "vae-jensen"]
        assert widget.countdown_running and "vae-collapse" in widget.header.value
        assert widget.prompt.outputs[0]["data"]["text/markdown"] == deck.get("vae-collapse").prompt
        assert widget.grade_row.layout.display == "none" and widget.answer.outputs == ()
        assert widget.grade("strong") is None and not path.exists()  # grading before reveal does nothing

        widget.reveal_button.click()
        assert widget.revealed and not widget.countdown_running
        assert "Takeaway for collapse" in widget.answer.outputs[0]["data"]["text/markdown"]
        assert widget.grade_row.layout.display is None and widget.reveal_button.layout.display == "none"
        assert widget.countdown.value.startswith("Time: ")

        widget.grade_buttons["strong"].click()
        saved = drill.load_progress(path)
        assert saved.state("vae-collapse").box == 1 and saved.state("vae-collapse").reviews[0].grade == "strong"
        assert "vae-elbo" in widget.header.value and widget.countdown_running and not widget.revealed
        assert "next review in 3 days" in widget.status.value

        widget.reveal()
        widget.grade_buttons["no"].click()
        widget.reveal()
        widget.grade_buttons["lean"].click()
        assert widget.done and not widget.countdown_running
        assert "Session complete" in widget.header.value and "no hire 1" in widget.header.value
        saved = drill.load_progress(path)
        assert [saved.state(c).box for c in ("vae-collapse", "vae-elbo", "vae-jensen")] == [1, 0, 1]
        assert isinstance(widget._repr_mimebundle_(), dict)
    finally:
        widget.close()


def test_widget_countdown_ticks_and_due_only(tmp_path, deck):
    path = tmp_path / "progress.json"
    progress = drill.load_progress(path)
    for card in deck:
        drill.record_review(progress, card, "strong", T0)
    drill.record_review(progress, deck.get("gan-jsd"), "no", T0)
    drill.save_progress(progress)
    widget = drill.DrillWidget(due_only=True, progress_file=path, deck=deck, clock=lambda: T0 + DAY, tick_s=0.01)
    try:
        assert [c.id for c in widget.cards] == ["gan-jsd"]
        first = widget.countdown.value
        deadline = time.monotonic() + 5
        while widget.countdown.value in (first, "Time limit 2:00") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert widget.countdown.value.endswith("left")
    finally:
        widget.close()
    assert not widget.countdown_running
    nothing = drill.DrillWidget(topic="vae", due_only=True, progress_file=path, deck=deck, clock=lambda: T0 + DAY)
    assert nothing.done and "Nothing to review" in nothing.header.value
    nothing.close()


def test_widget_reports_a_corrupt_file(tmp_path, deck):
    path = tmp_path / "progress.json"
    path.write_text("garbage")
    widget = drill.DrillWidget(progress_file=path, deck=deck, clock=lambda: T0, countdown=False)
    assert str(path) in widget.status.value and "moved aside" in widget.status.value
    assert _corrupt_copies(path)[0].read_text() == "garbage"
    widget.close()


# ---------------------------------------------------------------------------------------------- import cost


def test_the_drill_and_the_syllabus_import_without_torch_or_numpy():
    """The terminal drill must start fast: importing it (a fresh interpreter) loads neither torch nor numpy."""
    probe = ("import sys\nimport curriculum.drill, curriculum.syllabus\n"
             "print(sorted(name for name in ('torch', 'numpy') if name in sys.modules))")
    child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "[]"


def test_the_widget_shows_a_readable_line_without_a_kernel_not_its_constructor(tmp_path):
    widget = drill.drill_widget(topic="vae", progress_file=tmp_path / "progress.json", countdown=False)
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the app, for a live front end
    text = bundle["text/plain"]
    assert text.startswith("[interview drill]") and "python -m curriculum drill --topic vae" in text
    assert "children=" not in text and "VBox" not in text
