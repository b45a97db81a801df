"""Keeping the progress file safe on disk: permissions, the save lock, leftovers of killed saves, bad files.

- Permission problems are not corruption. ``UnreadableProgressFile`` (the file exists but may not be read),
  ``ReadOnlyProgressFile`` (the user made the file read-only: it is never replaced) and
  ``ReadOnlyProgressFolder`` (no file can be written in the folder) each say what to do; ``check_writable``
  raises them *before* a session shows its first card, so no grade is lost to a save that cannot happen.
  A file counts as read-only when it has no write bit at all or the user may not write it, so ``chmod a-w``
  is honoured even for root, who may write anything.
- ``progress_lock`` is an exclusive lock (``filelock``: ``flock`` on POSIX, ``msvcrt`` locking on Windows) on
  the hidden file ``.<name>.lock`` beside the progress file, held around every read-merge-write.
- ``remove_orphans`` deletes the atomic writer's temporary files (``.<name>.<random>.tmp``) that a killed
  save left behind. It runs only while holding the lock, so a save in progress (which holds the lock while
  its temporary file exists) never loses its file.
- ``move_aside`` renames a file that cannot be parsed to ``<name>.corrupt-<UTC stamp>``.
"""
from __future__ import annotations

import errno
import glob
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .clock import as_utc

__all__ = ["FILE_ENV", "ProgressError", "ProgressPermissionError", "UnreadableProgressFile",
           "ReadOnlyProgressFile", "ReadOnlyProgressFolder", "check_readable", "check_writable", "is_read_only",
           "lock_path", "progress_lock", "remove_orphans", "move_aside"]

FILE_ENV = "CURRICULUM_DRILL_FILE"
LOCK_TIMEOUT_S = 30.0
_ELSEWHERE = f"or choose another file with --file or {FILE_ENV}"


class ProgressError(OSError):
    """The progress file cannot be used (for example it is unreadable and cannot be moved aside)."""


class ProgressPermissionError(ProgressError):
    """A permission problem with the progress file or its folder (never treated as a corrupt file)."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return self.args[0]


class UnreadableProgressFile(ProgressPermissionError):
    """The progress file exists but this user may not read it."""


class ReadOnlyProgressFile(ProgressPermissionError):
    """The progress file is read-only; the drill does not replace it."""


class ReadOnlyProgressFolder(ProgressPermissionError):
    """No file can be created in the progress file's folder."""


def unreadable(path: Path) -> UnreadableProgressFile:
    return UnreadableProgressFile(
        f"cannot read the progress file {path}: permission denied. Your progress is still in it: nothing was "
        f"moved or replaced. Give yourself access (for example: chmod u+rw '{path}'), {_ELSEWHERE}.", path)


def read_only_file(path: Path) -> ReadOnlyProgressFile:
    return ReadOnlyProgressFile(
        f"the progress file {path} is read-only, and the drill never replaces a file you made read-only, so "
        f"nothing can be saved. Make it writable to keep drilling with it (for example: chmod u+w '{path}'), "
        f"{_ELSEWHERE}. Commands that only read (--stats, --plan, --list, --search, --export) still work.", path)


def read_only_folder(folder: Path, path: Path) -> ReadOnlyProgressFolder:
    return ReadOnlyProgressFolder(
        f"the folder {folder} is read-only, so progress cannot be saved to {path} (a save writes a temporary "
        f"file there and renames it). Make the folder writable (for example: chmod u+w '{folder}'), "
        f"{_ELSEWHERE}.", path)


def is_read_only(path: Path) -> bool:
    """No write bit at all, or this user may not write: either way the file is not to be replaced."""
    mode = os.stat(path).st_mode
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def _folder_is_read_only(folder: Path) -> bool:
    mode = os.stat(folder).st_mode
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(folder, os.W_OK | os.X_OK)


def check_readable(path: Path) -> None:
    """``UnreadableProgressFile`` when ``path`` is a file this user may not open (a missing file is fine)."""
    if not path.is_file():
        return
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise unreadable(path) from None


def check_writable(path: str | os.PathLike) -> Path:
    """Make sure a save to ``path`` can happen, creating its folder if needed; raise the matching permission
    error otherwise. Call it before the first card. Returns ``path``."""
    path = Path(path)
    check_readable(path)
    if path.is_file() and is_read_only(path):
        raise read_only_file(path)
    folder = path.parent
    if not folder.exists():  # it will be made inside the nearest folder that exists: that one must be writable
        existing = next(parent for parent in folder.parents if parent.exists())
        if _folder_is_read_only(existing):
            raise read_only_folder(existing, path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        existing = next(parent for parent in folder.parents if parent.exists())
        raise read_only_folder(existing, path) from None
    except OSError as err:
        if err.errno == errno.EROFS:
            raise read_only_folder(folder, path) from None
        raise
    if _folder_is_read_only(folder):
        raise read_only_folder(folder, path)
    try:  # the real test: ACLs and read-only file systems do not show in the mode bits
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError:
        raise read_only_folder(folder, path) from None
    os.close(handle)
    os.unlink(probe)
    return path


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


@contextmanager
def progress_lock(path: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the exclusive save lock of ``path`` (``ProgressError`` after ``timeout`` seconds of waiting)."""
    from filelock import FileLock, Timeout  # imported on use: reading progress never needs it

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(path)), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise ProgressError(f"another drill session has held the lock on {path} for {timeout:.0f} s; "
                            f"try again, or remove {lock_path(path)} if no drill is running") from None
    except PermissionError:
        raise read_only_folder(path.parent, path) from None
    try:
        yield
    finally:
        lock.release()


def _orphans(path: Path) -> list[Path]:
    pattern = f".{glob.escape(path.name)}.*.tmp"
    return [item for item in path.parent.glob(pattern) if item.is_file() and not item.is_symlink()]


def remove_orphans(path: Path) -> tuple[int, int]:
    """Delete the temporary files that killed saves of ``path`` left behind: (files removed, bytes freed).

    Nothing happens while another session holds the save lock (its temporary file is alive) or when the
    folder cannot be written.
    """
    if not path.parent.is_dir() or not _orphans(path):
        return 0, 0
    removed = freed = 0
    try:
        with progress_lock(path, timeout=0.2):
            for item in _orphans(path):
                try:
                    size = item.stat().st_size
                    item.unlink()
                except OSError:
                    continue
                removed, freed = removed + 1, freed + size
    except ProgressError:  # busy, or a read-only folder: leave them for a later start
        pass
    return removed, freed


def move_aside(path: Path, reason: str, now: datetime | None) -> str:
    """Rename a bad progress file to ``<name>.corrupt-<UTC stamp>``; return the notice to show."""
    stamp = as_utc(now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while os.path.lexists(aside):  # two bad files in one second: keep both copies
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
        number += 1
    try:
        os.replace(path, aside)
    except OSError as err:
        raise ProgressError(f"progress file {str(path)!r} {reason}, and it could not be moved aside to "
                            f"{str(aside)!r} ({err.strerror or err}). Move or repair it yourself, "
                            f"{_ELSEWHERE}.") from err
    return (f"Progress file {path} {reason}. It was moved aside to {aside} (nothing was deleted); "
            f"starting with fresh progress.")
