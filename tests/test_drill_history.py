"""Undo the last grade and reset a topic, in the progress file and on the command line; both re-apply cleanly when
another session saved in between."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from curriculum import drill

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def card(card_id: str) -> drill.Card:
    return drill.Card(card_id, card_id.split("-")[0], "Derivation", f"Prompt of {card_id}.", 120,
                      f"Answer of {card_id}.", drill.Rubric("s", "l", "n"), ("x", "y"))


ELBO, JENSEN, JSD = card("vae-elbo"), card("vae-jensen"), card("gan-jsd")


def test_undo_puts_the_card_back_where_it_was(tmp_path):
    path = tmp_path / "progress.json"
    progress = drill.load_progress(path)
    drill.record_review(progress, ELBO, "strong", T0)            # box 1, due 4 Jan
    drill.record_review(progress, JSD, "lean", T0 + DAY)          # new -> box 1
    drill.record_review(progress, ELBO, "strong", T0 + 3 * DAY)  # box 2, due 11 Jan
    drill.save_progress(progress)
    undone_id, undone = drill.undo_last(progress, T0 + 3 * DAY)
    assert (undone_id, undone.grade, undone.time) == ("vae-elbo", "strong", T0 + 3 * DAY)
    drill.save_progress(progress)
    state = drill.load_progress(path).state("vae-elbo")
    assert (state.box, state.due, len(state.reviews)) == (1, date(2026, 1, 4), 1)
    assert drill.undo_last(progress)[0] == "gan-jsd"  # the next most recent grade
    drill.save_progress(progress)
    assert "gan-jsd" not in json.loads(path.read_text())["cards"]  # back to a card never reviewed
    drill.undo_last(progress)
    drill.undo_last(progress)  # nothing left after this one
    assert drill.undo_last(progress) is None
    drill.save_progress(progress)
    assert json.loads(path.read_text())["cards"] == {}


def test_undo_restores_the_day_the_card_was_due_in_the_learners_zone(tmp_path):
    tokyo = timezone(timedelta(hours=9))
    progress = drill.load_progress(tmp_path / "progress.json")
    drill.record_review(progress, ELBO, "strong", datetime(2026, 1, 2, 8, 0, tzinfo=tokyo))  # 23:00 UTC on the 1st
    assert progress.state("vae-elbo").due == date(2026, 1, 5)
    drill.record_review(progress, ELBO, "strong", datetime(2026, 1, 5, 8, 0, tzinfo=tokyo))
    drill.undo_last(progress)
    state = progress.state("vae-elbo")
    assert (state.box, state.due) == (1, date(2026, 1, 5))  # as it was, not re-derived from UTC days


def test_undo_keeps_a_later_review_by_another_session(tmp_path):
    path = tmp_path / "progress.json"
    first = drill.load_progress(path)
    drill.record_review(first, ELBO, "strong", T0)
    drill.save_progress(first)
    other = drill.load_progress(path)
    drill.record_review(other, ELBO, "strong", T0 + 3 * DAY)  # box 2, saved by another session
    drill.save_progress(other)
    assert drill.undo_last(first)[1].time == T0  # this session has not seen the later review
    drill.save_progress(first)
    state = drill.load_progress(path).state("vae-elbo")
    assert [review.time for review in state.reviews] == [T0 + 3 * DAY] and state.box == 2  # only the review went


def test_undo_of_a_review_written_before_reviews_kept_their_before(tmp_path):
    path = tmp_path / "progress.json"
    old = [{"time": f"2025-12-0{day}T09:00:00Z", "grade": grade, "seconds": 5.0, "over_limit": False}
           for day, grade in ((1, "strong"), (4, "strong"), (9, "lean"))]
    path.write_text(json.dumps({"version": 1, "cards": {"vae-elbo": {"box": 2, "due": "2025-12-16T09:00:00Z",
                                                                    "reviews": old}}, "skills": []}))
    progress = drill.load_progress(path)
    drill.undo_last(progress)
    drill.save_progress(progress)
    state = drill.load_progress(path).state("vae-elbo")
    assert (state.box, state.due, len(state.reviews)) == (2, date(2025, 12, 11), 2)  # replayed: 2 strong


def test_reset_archives_a_topic_and_keeps_the_others(tmp_path):
    path = tmp_path / "progress.json"
    deck = drill.Deck([drill.TopicCards("vae", "VAE", "01_vae_elbo.ipynb", ("a", "b"), (ELBO, JENSEN)),
                       drill.TopicCards("gan", "GAN", "02_gan_jsd.ipynb", ("a", "b"), (JSD,))])
    progress = drill.load_progress(path)
    for item in (ELBO, JENSEN, JSD):
        drill.record_review(progress, item, "strong", T0)
    progress.cards["vae-renamed"] = {"box": 3, "due": "2026-01-10", "reviews": []}  # a card since renamed
    drill.save_progress(progress)
    other = drill.load_progress(path)
    drill.record_review(other, JENSEN, "lean", T0 + DAY)  # another session, before the reset is saved
    drill.save_progress(other)
    assert drill.reset_topic(progress, deck, "vae", T0 + 2 * DAY) == ["vae-elbo", "vae-jensen", "vae-renamed"]
    drill.save_progress(progress)
    saved = json.loads(path.read_text())
    assert list(saved["cards"]) == ["gan-jsd"]
    (archived,) = saved["archived"]
    assert archived["topic"] == "vae" and archived["time"] == "2026-01-03T09:00:00Z"
    assert len(archived["cards"]["vae-jensen"]["reviews"]) == 2  # the other session's review was archived too
    fresh = drill.load_progress(path)
    assert fresh.state("vae-elbo", T0 + 2 * DAY).is_new and fresh.state("gan-jsd").box == 1
    assert drill.reset_topic(fresh, deck, "vae", T0) == []
    with pytest.raises(ValueError, match="topic must be one of vae, gan"):
        drill.reset_topic(fresh, deck, "nope", T0)


def run_cli(args, progress: Path, stdin: str = ""):
    env = {**os.environ, "CURRICULUM_DRILL_FILE": str(progress), "CURRICULUM_DRILL_NOW": "2026-01-05T09:00:00Z"}
    env.pop("CURRICULUM_DRILL_DECK", None)
    return subprocess.run([sys.executable, "-m", "curriculum", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_undo_and_reset_on_the_command_line(tmp_path):
    path = tmp_path / "progress.json"
    graded = run_cli(["drill", "--topic", "vae", "--limit", "2"], path, stdin="\nl\n\ns\n")
    assert graded.returncode == 0 and "2 card(s) graded" in graded.stdout, graded.stderr
    last = json.loads(path.read_text())["last_review"]["card"]  # both grades fell in the same second
    undo = run_cli(["drill", "--undo"], path)
    assert undo.returncode == 0, undo.stderr
    assert f"Undid strong hire on {last} (graded 2026-01-05 09:00): the card is new again, due today." in undo.stdout
    assert len(json.loads(path.read_text())["cards"]) == 1
    refused = run_cli(["drill", "--reset", "vae"], path, stdin="no\n")
    assert "Type yes to confirm" in refused.stdout and "Not reset." in refused.stdout
    assert len(json.loads(path.read_text())["cards"]) == 1
    done = run_cli(["drill", "--reset", "vae", "--yes"], path)
    assert done.returncode == 0 and "Reset vae: 1 card(s) are new again" in done.stdout
    saved = json.loads(path.read_text())
    assert saved["cards"] == {} and saved["archived"][0]["topic"] == "vae" and last not in saved["archived"][0]["cards"]
    assert "Nothing to undo" in run_cli(["drill", "--undo"], path).stdout
    wrong = run_cli(["drill", "--reset", "vaes"], path)
    assert wrong.returncode == 2 and "argument --reset: unknown topic 'vaes'" in wrong.stderr
    assert run_cli(["drill", "--yes"], path).returncode == 2
