"""The pieces a terminal drill is built from: reading and writing lines, the live countdown, grades typed.

``Console`` writes (flushing each time; a character the output cannot encode becomes ``?`` rather than an
error) and reads one line at a time; when the input is not a terminal (a pipe or a file) it echoes each line
read, so that a transcript reads like the interactive session. ``Countdown`` rewrites one terminal line
(``\\r``) with a text of the caller's once per tick until stopped. ``grade_from`` reads s/l/n; ``ending`` tells
a quit (q) or the end of input apart from an answer; ``ask_grade`` asks until it gets a grade or an ending.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Console", "Countdown", "grade_from", "ending", "ask_grade", "isatty"]


def isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Console:
    """``say`` writes and flushes; ``read`` reads one line ('' at EOF), echoing it when input is not a TTY."""

    def __init__(self, stdin: TextIO, stdout: TextIO):
        self.stdin, self.stdout = stdin, stdout
        self.echo = not isatty(stdin)
        self.color = isatty(stdout)

    def say(self, text: str = "", end: str = "\n") -> None:
        try:
            self.stdout.write(text + end)
        except UnicodeEncodeError:  # an output that cannot show the maths: degrade, do not crash
            encoding = getattr(self.stdout, "encoding", None) or "ascii"
            self.stdout.write((text + end).encode(encoding, "replace").decode(encoding))
        self.stdout.flush()

    def read(self) -> str:
        line = self.stdin.readline()
        if self.echo and line:
            self.say(line.rstrip("\r\n"))
        return line


class Countdown:
    """Rewrites one terminal line (``\\r``) with ``text()`` once per tick, until stopped."""

    def __init__(self, text: Callable[[], str], out: TextIO, tick_s: float = 1.0):
        self.text, self.out, self.tick_s = text, out, tick_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="drill-countdown", daemon=True)

    def _run(self) -> None:
        while True:
            with self._lock:  # a stop() that has returned guarantees no further write
                if self._stop.is_set():
                    return
                self.out.write("\r" + self.text().ljust(30))
                self.out.flush()
            if self._stop.wait(self.tick_s):
                return

    def begin(self) -> Countdown:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:  # wait for a write in progress to finish
            pass
        self._thread.join(timeout=2 * self.tick_s + 1)


def read_timed(console: "Console", status: Callable[[float], str], timer: Callable[[], float], tick_s: float,
               live: bool, say: Callable[..., None]) -> tuple[str, float]:
    """Read one line while, when ``live``, a countdown line shows ``status(seconds so far)``; return the line and
    the seconds it took. The countdown stops however the read ends (Ctrl-C included)."""
    begin = timer()
    countdown = Countdown(lambda: status(timer() - begin), console.stdout, tick_s).begin() if live else None
    try:
        line = console.read()
    finally:
        if countdown is not None:
            countdown.stop()
    took = timer() - begin
    if countdown is not None:
        say()
    return line, took


def grade_from(text: str) -> str | None:
    answers = {"s": "strong", "strong": "strong", "l": "lean", "lean": "lean", "n": "no", "no": "no"}
    return answers.get(text.strip().lower())


def ending(line: str) -> str | None:
    """How a line read ends a session: "eof" at the end of input ('' from readline), "quit" for q; else None."""
    if line == "":
        return "eof"
    return "quit" if line.strip().lower() in ("q", "quit") else None


def ask_grade(console: Console) -> tuple[str | None, str | None]:
    """Ask for the self-grade until one comes: (grade, None), or (None, "quit" / "eof")."""
    while True:
        console.say("Grade [s = strong hire, l = lean hire, n = no hire, q = quit]: ", end="")
        answer = console.read()
        if ended := ending(answer):
            return None, ended
        grade = grade_from(answer)
        if grade is not None:
            return grade, None
        console.say(f"Please type s, l, n or q (got {answer.strip()!r}).")
