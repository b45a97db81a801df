"""``python -m curriculum drill`` end to end: scripted stdin, a fixed clock (CURRICULUM_DRILL_NOW), a progress file
in a temporary folder (CURRICULUM_DRILL_FILE) and a small deck (CURRICULUM_DRILL_DECK), checked in the file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOW = "2025-01-01T09:00:00Z"
NEXT_DAY = "2025-01-02T09:00:00Z"
NOTEBOOKS = {"vae": "01_vae_elbo.ipynb", "gan": "02_gan_jsd.ipynb"}


def card(topic: str, name: str, limit: int = 120) -> dict:
    return {"id": f"{topic}-{name}", "topic": topic, "section": "Derivation",
            "prompt": f"Walk me through {name}.", "time_limit_s": limit,
            "answer": f"1. The first step of {name}, because $a \\le b$.\n2. The second step.\n\nTakeaway: {name}.",
            "rubric": {"strong_hire": f"every step of {name}", "lean_hire": "the first step",
                       "no_hire": "no step"},
            "red_flags": [f"{name} is exact.", f"{name} needs no assumptions."]}


@pytest.fixture
def setup(tmp_path):
    """A two-topic deck (vae: 2 cards, gan: 1 card) and a progress path in a folder that does not exist yet."""
    deck = tmp_path / "cards"
    deck.mkdir()
    for topic, names in {"vae": ["elbo", "jensen"], "gan": ["jsd"]}.items():
        data = {"topic": topic, "title": f"{topic} title", "notebook": NOTEBOOKS[topic],
                "skills": [f"{topic} skill one", f"{topic} skill two"],
                "cards": [card(topic, name, 180 if name == "elbo" else 120) for name in names]}
        (deck / f"{topic}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return deck, tmp_path / "store" / "progress.json"


def run_cli(args, setup, stdin="", now=NOW, real_deck=False):
    deck, progress = setup
    env = {**os.environ, "CURRICULUM_DRILL_FILE": str(progress), "CURRICULUM_DRILL_NOW": now}
    env.pop("CURRICULUM_DRILL_DECK", None)
    if not real_deck:
        env["CURRICULUM_DRILL_DECK"] = str(deck)
    return subprocess.run([sys.executable, "-m", "curriculum", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_two_card_session_then_only_the_miss_is_due_the_next_day(setup):
    _, path = setup
    # card 1: Enter reveals, 'x' is refused and asked again, s grades; card 2: Enter, n
    # the miss comes back at the end of the session: input ends there
    done = run_cli(["drill", "--topic", "vae"], setup, stdin="\nx\ns\n\nn\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("[1/2] vae-elbo") < out.index("Time limit: 3:00") < out.index("Walk me through elbo.")
    assert out.index("Walk me through elbo.") < out.index("--- Model answer ---") < out.index("--- Rubric ---")
    assert "• Strong hire: every step of elbo" in out and "• elbo is exact." in out
    assert "because a ≤ b." in out and "$" not in out  # Markdown rendered, maths as Unicode
    assert "Please type s, l, n or q (got 'x')." in out
    assert "-> strong hire: box 1, next review in 3 days (2025-01-04). Saved." in out
    assert "[2/2] vae-jensen" in out
    assert "-> no hire: box 0, next review today (asked again before this session ends). Saved." in out
    assert "[3/3] vae-jensen" in out and "again: no hire earlier this session" in out
    assert "Session ended (end of input): 2 card(s) graded (strong 1, lean 0, no 1)" in out

    saved = load(path)
    assert saved["version"] == 1 and saved["skills"] == []
    elbo, jensen = saved["cards"]["vae-elbo"], saved["cards"]["vae-jensen"]
    assert (elbo["box"], elbo["due"]) == (1, "2025-01-04")
    assert (jensen["box"], jensen["due"]) == (0, "2025-01-01")
    for entry, grade, limit in ((elbo, "strong", 180), (jensen, "no", 120)):
        (record,) = entry["reviews"]
        assert (record["time"], record["grade"], record["time_limit_s"], record["over_limit"]) == (NOW, grade, limit,
                                                                                                  False)
        assert 0 <= record["seconds"] < 60

    before = path.read_bytes()
    nextday = run_cli(["drill", "--topic", "vae", "--due"], setup, stdin="", now=NEXT_DAY)  # look, then EOF
    assert nextday.returncode == 0, nextday.stderr
    assert "Drill: 1 card." in nextday.stdout and "[1/1] vae-jensen" in nextday.stdout
    assert "vae-elbo" not in nextday.stdout
    assert "Session ended (end of input): 0 card(s) graded" in nextday.stdout
    assert path.read_bytes() == before  # nothing new to save, so the file is not rewritten


def test_stats(setup):
    _, path = setup
    path.parent.mkdir()
    review = {"time": NOW, "grade": "strong", "seconds": 95.0, "time_limit_s": 180, "over_limit": False}
    path.write_text(json.dumps({"version": 1, "cards": {
        "vae-elbo": {"box": 1, "due": "2025-01-04T09:00:00Z", "reviews": [review]},
        "vae-jensen": {"box": 0, "due": NOW, "reviews": [{**review, "grade": "no"}]},
        "vae-removed-card": {"box": 4, "due": NOW, "reviews": [review]},
    }, "skills": [{"time": NOW, "ratings": {"vae: vae skill one": 2}},
                  {"time": NEXT_DAY, "ratings": {"vae: vae skill one": 4}}]}))
    result = run_cli(["drill", "--stats"], setup, now=NEXT_DAY)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Progress file: {path}" in out
    assert "box 0 ( 0 days):    2  (1 never reviewed)" in out and "box 1 ( 3 days):    1" in out
    assert "box 4 (21 days):    0" in out  # the removed card's entry is ignored
    assert "Due today: 2" in out and "Due in the next 7 days (after today): 1" in out and "Reviews done: 2" in out
    assert "vae    2 reviews: 1 / 0 / 1   accuracy 50%" in out and "gan    0 reviews" in out
    assert "vae: vae skill one: 2 -> 4 (+2)" in out
    assert load(path)["cards"]["vae-removed-card"]["box"] == 4  # --stats writes nothing


def test_skills_self_assessment(setup):
    _, path = setup
    path.parent.mkdir()
    path.write_text(json.dumps({"version": 1, "cards": {},
                                "skills": [{"time": NOW, "ratings": {"vae: vae skill one": 3}}]}))
    # skill one: '9' and 'good' are refused, Enter keeps 3; skill two: 4
    result = run_cli(["drill", "--skills", "--topic", "vae"], setup, stdin="9\ngood\n\n4\n", now=NEXT_DAY)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "vae skill one [previous 3, Enter keeps it]:" in out and "vae skill two [not rated yet, Enter skips]:" in out
    assert out.count("Please type a whole number from 1 to 5") == 2
    assert "Saved 1 rating(s)" in out
    skills = load(path)["skills"]
    assert skills == [{"time": NOW, "ratings": {"vae: vae skill one": 3}},
                      {"time": NEXT_DAY, "ratings": {"vae: vae skill two": 4}}]
    stats = run_cli(["drill", "--stats", "--topic", "vae"], setup, now=NEXT_DAY).stdout
    assert "vae: vae skill one: 3 -> 3 (+0)" in stats and "vae: vae skill two: 4 -> 4 (+0)" in stats


def test_q_quits_and_keeps_what_was_graded(setup):
    _, path = setup
    result = run_cli(["drill"], setup, stdin="\nl\n\nq\n")
    assert result.returncode == 0, result.stderr
    assert "Session ended (q): 1 card(s) graded" in result.stdout
    cards = load(path)["cards"]
    # session order is due time then id, so gan-jsd comes first among the three new cards
    assert list(cards) == ["gan-jsd"] and cards["gan-jsd"]["box"] == 1


def test_end_of_input_mid_session_saves(setup):
    _, path = setup
    result = run_cli(["drill", "--topic", "vae", "--limit", "2"], setup, stdin="\nn\n\n")  # EOF at the grade prompt
    assert result.returncode == 0, result.stderr
    assert "Session ended (end of input): 1 card(s) graded" in result.stdout and "Traceback" not in result.stderr
    cards = load(path)["cards"]
    assert list(cards) == ["vae-elbo"] and cards["vae-elbo"]["reviews"][0]["grade"] == "no"


def test_unknown_topic_lists_the_valid_ones(setup):
    result = run_cli(["drill", "--topic", "gans"], setup)
    assert result.returncode == 2
    assert "argument --topic: unknown topic 'gans'; valid topics: vae, gan" in result.stderr
    assert not setup[1].exists()


def test_usage_errors_name_the_option(setup):
    for args, expected in ((["drill", "--limit", "0"], "argument --limit: must be a positive integer, got 0"),
                           (["drill", "--limit", "many"], "argument --limit: must be a positive integer, got 'many'"),
                           (["drill", "--stats", "--skills"], "argument --skills: not allowed with argument --stats"),
                           (["drill", "--bogus"], "unrecognized arguments: --bogus"),
                           ([], "the following arguments are required: COMMAND")):
        result = run_cli(args, setup)
        assert result.returncode == 2 and expected in result.stderr, (args, result.stderr)
    bad_clock = run_cli(["drill", "--stats"], setup, now="tomorrow")
    assert bad_clock.returncode == 2 and "CURRICULUM_DRILL_NOW must be an ISO 8601 time" in bad_clock.stderr


def test_help_lists_the_subcommands(setup):
    top = run_cli(["--help"], setup)
    assert top.returncode == 0 and "drill" in top.stdout and "subcommands" in top.stdout
    sub = run_cli(["drill", "--help"], setup)
    for option in ("--topic", "--due", "--limit", "--stats", "--skills", "--file", "CURRICULUM_DRILL_NOW", "--plan",
                   "--start", "--mock", "--problem", "--search", "--list", "--undo", "--reset", "--export",
                   "--daily-cap", "CURRICULUM_DRILL_TZ"):
        assert option in sub.stdout


def test_a_corrupt_progress_file_is_reported_and_preserved(setup):
    _, path = setup
    path.parent.mkdir()
    path.write_bytes(b'{"version": 1, "cards": {"vae-elbo": ')
    result = run_cli(["drill", "--stats"], setup)
    assert result.returncode == 0
    (aside,) = path.parent.glob("progress.json.corrupt-*")
    assert aside.name == "progress.json.corrupt-20250101T090000Z"
    assert aside.read_bytes() == b'{"version": 1, "cards": {"vae-elbo": '
    assert f"Progress file {path} is not valid JSON" in result.stderr and str(aside) in result.stderr
    assert "Reviews done: 0" in result.stdout


def test_file_option_wins_over_the_environment(setup, tmp_path):
    other = tmp_path / "elsewhere.json"
    result = run_cli(["drill", "--stats", "--file", str(other)], setup)
    assert result.returncode == 0 and f"Progress file: {other}" in result.stdout


def test_stats_on_the_real_deck(setup):
    result = run_cli(["drill", "--stats"], setup, real_deck=True)
    assert result.returncode == 0, result.stderr
    assert "Cards per box" in result.stdout and "Accuracy by topic" in result.stdout


def test_a_deck_without_the_practice_problems_cannot_run_a_mock(setup):
    result = run_cli(["drill", "--mock"], setup)
    assert result.returncode == 1 and "the deck has no card 'vae-elbo-derivation'" in result.stderr
    assert "Traceback" not in result.stderr
