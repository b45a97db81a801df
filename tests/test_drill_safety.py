"""Progress that is never lost: concurrent sessions keep every review (several processes saving at once),
permission problems are told apart from corruption and caught before the first card, a read-only file is never
replaced, and temporary files left by killed saves are removed at the next start."""
from __future__ import annotations

import io
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from curriculum import drill
from curriculum.drill import access

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
CARD = drill.Card("vae-elbo", "vae", "Derivation", "p", 120, "a", drill.Rubric("s", "l", "n"), ("x", "y"))


# ---------------------------------------------------------------------------------------------- concurrent writers

WRITER = textwrap.dedent("""
    import sys, time
    from datetime import datetime, timedelta, timezone
    from pathlib import Path
    from curriculum import drill

    path, writer, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    cards = [drill.Card(f"vae-card-{n}", "vae", "Derivation", "p", 60, "a", drill.Rubric("s", "l", "n"),
                        ("x", "y")) for n in range(5)]
    progress = drill.load_progress(path)  # every writer starts from the same (empty) file
    while not go.exists():  # then all start writing at once
        time.sleep(0.005)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(count):
        card = cards[(writer + i) % len(cards)]  # the writers review the same five cards
        drill.record_review(progress, card, "strong", start + timedelta(seconds=i), seconds=writer * 1000 + i)
        drill.save_progress(progress)
    print("saved", count)
""")


def test_concurrent_sessions_keep_every_review(tmp_path):
    path, go = tmp_path / "progress.json", tmp_path / "go"
    writers, each = 4, 40
    children = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(w), str(each), str(go)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for w in range(writers)]
    go.touch()
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0 and out.strip() == f"saved {each}", err
    saved = json.loads(path.read_text())
    reviews = [review for entry in saved["cards"].values() for review in entry["reviews"]]
    print(f"\n{writers} writers x {each} reviews = {writers * each} saved; {len(reviews)} in the file")
    assert len(reviews) == writers * each
    assert sorted(review["seconds"] for review in reviews) == sorted(
        float(w * 1000 + i) for w in range(writers) for i in range(each))
    for entry in saved["cards"].values():  # 32 strong answers each: the boxes moved from what was on disk
        assert entry["box"] == 4 and len(entry["reviews"]) == writers * each // 5
    assert not list(tmp_path.glob(".progress.json.*.tmp"))


def test_a_save_merges_reviews_of_the_same_card_from_another_session(tmp_path):
    path = tmp_path / "progress.json"
    terminal, notebook = drill.load_progress(path), drill.load_progress(path)
    drill.record_review(terminal, CARD, "strong", T0)
    drill.save_progress(terminal)
    drill.record_review(notebook, CARD, "strong", T0.replace(hour=10))  # the notebook had not seen it
    drill.save_progress(notebook)
    state = drill.load_progress(path).state("vae-elbo")
    assert [review.time.hour for review in state.reviews] == [9, 10] and state.box == 2


# ---------------------------------------------------------------------------------------------- permissions


def read_only(path: Path) -> None:
    path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_a_read_only_file_is_never_replaced(tmp_path):
    path = tmp_path / "progress.json"
    progress = drill.load_progress(path)
    drill.record_review(progress, CARD, "no", T0)
    drill.save_progress(progress)
    read_only(path)
    before, mode = path.read_bytes(), path.stat().st_mode
    again = drill.load_progress(path)  # reading it is fine
    assert again.notices == [] and again.state("vae-elbo").box == 0
    drill.record_review(again, CARD, "strong", T0)
    with pytest.raises(drill.ReadOnlyProgressFile, match="is read-only") as caught:
        drill.save_progress(again)
    assert "never replaces a file you made read-only" in str(caught.value) and str(path) in str(caught.value)
    with pytest.raises(drill.ReadOnlyProgressFile):
        drill.check_writable(path)
    assert path.read_bytes() == before and path.stat().st_mode == mode
    assert again.dirty  # the grade is still pending: a later save (once writable) keeps it
    path.chmod(mode | stat.S_IWUSR)
    drill.save_progress(again)
    assert drill.load_progress(path).state("vae-elbo").box == 1


def test_a_read_only_folder_is_caught_before_the_first_card(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    read_only(folder)
    try:
        progress = drill.load_progress(folder / "progress.json")
        out = io.StringIO()
        with pytest.raises(drill.ReadOnlyProgressFolder, match="is read-only") as caught:
            drill.run_session([CARD], progress, clock=lambda: T0, stdin=io.StringIO("\ns\n"), stdout=out,
                              live_countdown=False)
        assert out.getvalue() == ""  # not a word, not a card: nothing to lose
        assert str(folder) in str(caught.value)
        with pytest.raises(drill.ReadOnlyProgressFolder) as nested:  # a folder still to be made in it
            drill.check_writable(folder / "deeper" / "progress.json")
        assert str(folder) in str(nested.value) and not (folder / "deeper").exists()
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_the_three_permission_problems_are_different_errors_and_none_is_corruption(tmp_path, monkeypatch):
    kinds = {drill.UnreadableProgressFile, drill.ReadOnlyProgressFile, drill.ReadOnlyProgressFolder}
    assert len(kinds) == 3 and all(issubclass(kind, drill.ProgressPermissionError) for kind in kinds)
    assert all(not issubclass(a, b) for a in kinds for b in kinds if a is not b)
    path = tmp_path / "progress.json"
    path.write_text('{"version": 1, "cards": {}, "skills": []}')
    real_open = open

    def refuse(file, *args, **kwargs):  # what a chmod 000 file does to a user who is not root
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(drill.UnreadableProgressFile):
        drill.check_writable(path)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == [path]  # not moved aside


def _nobody() -> dict:
    """How to run a command so that permission bits apply: as 'nobody' when the tests run as root (whom they
    do not stop), as this user otherwise."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no 'nobody' user to run as")
    return {"user": "nobody"}


@pytest.fixture
def shared_folder():
    """A folder outside pytest's private temporary tree, so that another user can reach it."""
    folder = Path(tempfile.mkdtemp(prefix="drill-permissions-"))
    folder.chmod(0o755)
    yield folder
    for item in [folder, *folder.rglob("*")]:
        item.chmod(0o755 if item.is_dir() else 0o644)
    shutil.rmtree(folder)


def run_cli(args, progress: Path, stdin="", **how):
    env = {**os.environ, "CURRICULUM_DRILL_FILE": str(progress), "CURRICULUM_DRILL_NOW": "2026-01-01T09:00:00Z"}
    env.pop("CURRICULUM_DRILL_DECK", None)
    return subprocess.run([sys.executable, "-m", "curriculum", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120, **how)


def _give(path: Path, how: dict) -> None:
    if how:
        shutil.chown(path, user="nobody")


def test_real_unreadable_file(shared_folder):
    how = _nobody()
    folder = shared_folder / "store"
    folder.mkdir()
    path = folder / "progress.json"
    path.write_text('{"version": 1, "cards": {}, "skills": []}')
    for item in (folder, path):
        _give(item, how)
    path.chmod(0)
    for args in (["drill", "--stats"], ["drill"]):
        result = run_cli(args, path, stdin="\ns\n", **how)
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert f"cannot read the progress file {path}: permission denied" in result.stderr
        assert "[1/" not in result.stdout and "Traceback" not in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["progress.json"]  # nothing moved aside


@pytest.mark.parametrize("as_other_user", [False, True], ids=["mode-bits", "another-user"])
def test_real_read_only_file(shared_folder, as_other_user):
    how = _nobody() if as_other_user else {}
    path = shared_folder / "progress.json"
    review = {"time": "2025-12-30T09:00:00Z", "grade": "no", "seconds": 5.0, "over_limit": False}
    path.write_text(json.dumps({"version": 1, "cards": {"vae-elbo-derivation": {
        "box": 0, "due": "2025-12-30", "reviews": [review]}}, "skills": []}))
    if how:  # another user's folder, holding a file they do not own and may not write
        _give(shared_folder, how)
        path.chmod(0o644)
    else:
        path.chmod(0o444)
    before = path.read_bytes()
    result = run_cli(["drill", "--topic", "vae"], path, stdin="\ns\n", **how)
    assert result.returncode == 1 and f"the progress file {path} is read-only" in result.stderr, result.stderr
    assert "[1/" not in result.stdout  # stopped before the first card
    assert path.read_bytes() == before and list(shared_folder.iterdir()) == [path]
    stats = run_cli(["drill", "--stats"], path, **how)  # commands that only read still work
    assert stats.returncode == 0 and "Reviews done: 1" in stats.stdout


def test_real_read_only_folder(shared_folder):
    how = _nobody()
    folder = shared_folder / "store"
    folder.mkdir()
    _give(folder, how)
    folder.chmod(0o555)
    result = run_cli(["drill", "--topic", "vae"], folder / "progress.json", stdin="\ns\n", **how)
    assert result.returncode == 1 and f"the folder {folder} is read-only" in result.stderr, result.stderr
    assert "[1/" not in result.stdout and list(folder.iterdir()) == []


# ---------------------------------------------------------------------------------------------- killed saves


def test_orphan_temporary_files_are_removed_at_the_next_start(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text('{"version": 1, "cards": {}, "skills": []}')
    orphans = [tmp_path / ".progress.json.k3j2h1.tmp", tmp_path / ".progress.json.x9_a0b.tmp"]
    for orphan in orphans:
        orphan.write_bytes(b"x" * 544 * 1024)
    others = [tmp_path / ".other.json.k3j2h1.tmp", tmp_path / ".progress.json.notes", tmp_path / "keep.tmp"]
    for other in others:
        other.write_text("not ours")
    progress = drill.load_progress(path)
    (notice,) = progress.notices
    assert "Removed 2 temporary file(s) (1088 KB)" in notice
    assert not any(orphan.exists() for orphan in orphans) and all(other.exists() for other in others)
    assert drill.load_progress(path).notices == []  # nothing left the second time


def test_a_temporary_file_of_a_save_in_progress_is_left_alone(tmp_path):
    from filelock import FileLock

    path = tmp_path / "progress.json"
    live = tmp_path / ".progress.json.abc123.tmp"
    live.write_text("another session is writing this right now")
    holder = FileLock(str(access.lock_path(path)))
    holder.acquire()  # that session holds the save lock while its temporary file exists
    try:
        progress = drill.load_progress(path)
        assert progress.notices == [] and live.exists()
    finally:
        holder.release()
    drill.load_progress(path)
    assert not live.exists()


def test_the_widget_reports_a_read_only_file_instead_of_asking_for_grades(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text('{"version": 1, "cards": {}, "skills": []}')
    read_only(path)
    deck = drill.Deck([drill.TopicCards("vae", "VAE", "01_vae_elbo.ipynb", ("a", "b"), (CARD,))])
    widget = drill.DrillWidget(progress_file=path, deck=deck, clock=lambda: T0, countdown=False)
    try:
        assert widget.cards == [] and widget.done and "is read-only" in widget.status.value
    finally:
        widget.close()
