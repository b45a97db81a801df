"""Finding cards (search and list) and taking the deck elsewhere (CSV, and an Anki package for a phone)."""
from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from curriculum import drill
from curriculum.drill.export import ANKI_MODEL_ID, CSV_FIELDS, anki_guid

ROOT = Path(__file__).resolve().parent.parent
REAL = drill.load_deck()
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------- search and list


def test_search_needs_every_word_and_ranks_the_id_and_prompt_first():
    found = [card.id for card in drill.search_cards(REAL, "optimal discriminator")]
    assert found[:2] == ["gan-optimal-discriminator", "gan-optimal-discriminator-to-jsd"]
    for card_id in found:
        card = REAL.get(card_id)
        text = " ".join([card.id, card.prompt, card.answer, *vars(card.rubric).values(), *card.red_flags]).lower()
        assert "optimal" in text and "discriminator" in text
    assert drill.search_cards(REAL, "ELBO", topic="gan") == [] or all(
        card.topic == "gan" for card in drill.search_cards(REAL, "ELBO", topic="gan"))
    assert [card.id for card in drill.search_cards(REAL, "REPARAMETERISATION trick", topic="vae")][0] == \
        "vae-reparameterisation"
    assert drill.search_cards(REAL, "zebra crossing") == []
    with pytest.raises(ValueError, match="at least one word"):
        drill.search_cards(REAL, "   ")


def test_the_list_shows_state_and_fits_the_width():
    progress = drill.Progress()
    drill.record_review(progress, REAL.get("vae-elbo-derivation"), "strong", T0)
    text = drill.format_card_list(REAL.by_topic("vae"), REAL, progress, T0, width=80)
    lines = text.splitlines()
    assert len(lines) == 2 * len(REAL.by_topic("vae")) and max(len(line) for line in lines) <= 80
    assert lines[0] == "vae-elbo-derivation  (box 1, due 2026-01-04 · 4:00 · Derivation)"
    assert "p_θ(x, z)" in lines[1]  # the prompt's first words, maths as Unicode
    assert lines[2] == "vae-reparameterisation  (new · 3:00 · Implement)"


def run_cli(args, tmp_path: Path):
    env = {**os.environ, "CURRICULUM_DRILL_FILE": str(tmp_path / "progress.json"), "COLUMNS": "80",
           "CURRICULUM_DRILL_NOW": "2026-01-01T09:00:00Z"}
    env.pop("CURRICULUM_DRILL_DECK", None)
    return subprocess.run([sys.executable, "-m", "curriculum", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_search_and_list_on_the_command_line(tmp_path):
    found = run_cli(["drill", "--search", "mode collapse", "--topic", "gan"], tmp_path)
    assert found.returncode == 0, found.stderr
    count = len(drill.search_cards(REAL, "mode collapse", topic="gan"))
    assert found.stdout.startswith(f"{count} card(s) match 'mode collapse' in gan:\n")
    assert "gan-mode-collapse-diagnosis" in found.stdout
    listed = run_cli(["drill", "--list", "--topic", "wgan"], tmp_path)
    assert listed.stdout.startswith(f"{len(REAL.by_topic('wgan'))} card(s) in wgan:")
    none = run_cli(["drill", "--search", "zebra"], tmp_path)
    assert none.returncode == 0 and none.stdout.strip() == "0 card(s) match 'zebra'."
    assert not (tmp_path / "progress.json").exists()  # looking writes nothing


# ---------------------------------------------------------------------------------------------- CSV


def test_csv_has_one_row_per_card_with_every_field(tmp_path):
    path = drill.export_csv(REAL, tmp_path / "out" / "deck.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == len(REAL)
    by_id = {row["id"]: row for row in rows}
    for card in REAL:
        row = by_id[card.id]
        assert (row["topic"], row["section"], int(row["time_limit_s"])) == (card.topic, card.section,
                                                                             card.time_limit_s)
        assert row["prompt"] == card.prompt and row["answer"] == card.answer  # multi-line cells survive
        assert (row["rubric_strong_hire"], row["rubric_lean_hire"], row["rubric_no_hire"]) == (
            card.rubric.strong_hire, card.rubric.lean_hire, card.rubric.no_hire)
        assert row["red_flags"].split("\n") == list(card.red_flags)
        assert row["notebook"] == drill.NOTEBOOKS[card.topic] and row["topic_title"] == REAL.title(card.topic)


# ---------------------------------------------------------------------------------------------- Anki


def anki_notes(path: Path, tmp_path: Path) -> tuple[list[tuple], dict]:
    with zipfile.ZipFile(path) as package:
        package.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        notes = db.execute("select guid, mid, flds, tags from notes order by id").fetchall()
        models = json.loads(db.execute("select models from col").fetchone()[0])
        decks = json.loads(db.execute("select decks from col").fetchone()[0])
    return notes, {"models": models, "decks": decks}


def test_anki_package_one_note_per_card_with_stable_ids(tmp_path):
    cards = REAL.by_topic("vae") + REAL.by_topic("gan")
    path = drill.export_anki(REAL, tmp_path / "deck.apkg", cards, now=T0)
    notes, collection = anki_notes(path, tmp_path)
    assert len(notes) == len(cards)
    assert [guid for guid, *_ in notes] == [anki_guid(card.id) for card in cards]
    assert len({guid for guid, *_ in notes}) == len(cards) and anki_guid("vae-elbo") == anki_guid("vae-elbo")
    assert {mid for _, mid, _, _ in notes} == {ANKI_MODEL_ID}
    names = sorted(deck["name"] for deck in collection["decks"].values())
    assert "Generative models interview drill::VAE and the ELBO" in names
    fields = dict(zip(("Id", "Topic", "Section", "TimeLimit", "Prompt", "Answer", "Rubric", "RedFlags"),
                      notes[0][2].split("\x1f")))
    card = cards[0]
    assert fields["Id"] == card.id and fields["TimeLimit"] == "4:00" and fields["Section"] == "Derivation"
    assert "<strong>Start from the marginal.</strong>" in fields["Answer"]  # Markdown became HTML
    assert r"\(\log p_\theta(x) = \log \int p_\theta(x,z)\,dz\)" in fields["Answer"]  # maths for MathJax, intact
    assert r"\[\log p_\theta(x) = \mathrm{ELBO}(x)" in fields["Answer"] and "$" not in fields["Answer"]
    assert "<li><strong>Strong hire:</strong>" in fields["Rubric"] and fields["RedFlags"].count("<li>") == 3
    assert sorted(notes[0][3].split()) == ["Derivation", "vae"]
    # a later export of the whole deck keeps every note's id: Anki updates instead of duplicating
    again, _ = anki_notes(drill.export_anki(REAL, tmp_path / "all.apkg"), tmp_path / "again")
    assert {guid for guid, *_ in notes} <= {guid for guid, *_ in again} and len(again) == len(REAL)


def test_export_on_the_command_line(tmp_path):
    csv_run = run_cli(["drill", "--export", str(tmp_path / "gan.csv"), "--topic", "gan"], tmp_path)
    assert csv_run.returncode == 0 and f"Wrote {len(REAL.by_topic('gan'))} card(s)" in csv_run.stdout
    assert (tmp_path / "gan.csv").read_text(encoding="utf-8").startswith(",".join(CSV_FIELDS))
    apkg = run_cli(["drill", "--export", str(tmp_path / "deck.apkg")], tmp_path)
    assert apkg.returncode == 0 and "Anki package" in apkg.stdout and zipfile.is_zipfile(tmp_path / "deck.apkg")
    wrong = run_cli(["drill", "--export", str(tmp_path / "deck.txt")], tmp_path)
    assert wrong.returncode == 2 and "must end in .csv or .apkg" in wrong.stderr
    assert not (tmp_path / "deck.txt").exists()
