"""Command line: ``python -m curriculum COMMAND``.

    python -m curriculum drill [--topic T] [--due] [--limit N] [--stats | --skills] [--file PATH]

Exit codes: 0 ok, 1 the deck or the progress file cannot be used, 2 usage error.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from curriculum import drill, syllabus

DRILL_EPILOG = f"""\
scheduling: strong hire moves a card up one box (at most 4), lean hire keeps it in its box (at least box 1),
no hire sends it back to box 0, due now; box b comes back after {', '.join(map(str, drill.INTERVALS_DAYS))} days.

environment:
  {drill.FILE_ENV}   progress file (default: the user data folder; --file wins)
  {drill.NOW_ENV}    testing/override hook: use this ISO 8601 time as "now" (e.g. 2025-01-31T09:00:00Z)
  {drill.DECK_ENV}   testing/authoring hook: read card files from this folder

exit codes: 0 ok, 1 the deck or the progress file cannot be used, 2 usage error
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m curriculum",
        description="Command-line tools of the generative-models course.",
    )
    commands = parser.add_subparsers(dest="command", title="subcommands", metavar="COMMAND", required=True)
    sub = commands.add_parser(
        "drill",
        help="interview drill with spaced repetition (cards, time limits, self-grading, progress)",
        description="Interview drill: each card's prompt with a time limit, then the model answer, rubric\n"
                    "and red flags; grade yourself s (strong hire), l (lean hire) or n (no hire).\n"
                    "Progress is saved after every card.",
        epilog=DRILL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument("--topic", metavar="T", help="only this topic's cards (e.g. vae, diffusion)")
    sub.add_argument("--due", action="store_true", help="only cards due now")
    sub.add_argument("--limit", metavar="N", type=_positive_int, help="at most N cards this session")
    mode = sub.add_mutually_exclusive_group()
    mode.add_argument("--stats", action="store_true",
                      help="print a summary (boxes, due cards, reviews, accuracy, skill ratings) and exit")
    mode.add_argument("--skills", action="store_true", help="rate each skill 1-5 (Enter keeps the previous rating)")
    sub.add_argument("--file", metavar="PATH", type=Path,
                     help=f"progress file (default: ${drill.FILE_ENV}, else the user data folder)")
    sub.set_defaults(run=run_drill, parser=sub)
    return parser


def run_drill(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    try:
        now = drill.current_time()
    except ValueError as err:
        parser.error(str(err))
    try:
        deck = drill.load_deck(os.environ.get(drill.DECK_ENV, "").strip() or None)
    except drill.DeckError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.topic is not None and args.topic not in deck.topics:
        if args.topic in syllabus.TOPICS:
            parser.error(f"argument --topic: topic {args.topic!r} has no cards yet; topics with cards: "
                         f"{', '.join(deck.topics) or '(none)'}")
        parser.error(f"argument --topic: unknown topic {args.topic!r}; valid topics: "
                     f"{', '.join(deck.topics or syllabus.TOPICS)}")
    try:
        progress = drill.load_progress(args.file, now=now)
    except drill.ProgressError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for notice in progress.notices:
        print(f"warning: {notice}", file=sys.stderr)
    progress.notices.clear()

    if args.stats:
        print(drill.format_stats(deck, progress, now, args.topic))
        return 0
    try:
        if args.skills:
            drill.run_skills(deck, progress, topics=[args.topic] if args.topic else None)
            return 0
        cards = drill.session_cards(deck, progress, now, topic=args.topic, due_only=args.due, limit=args.limit)
        if not cards:
            print(_nothing_due(deck, progress, now, args.topic) if len(deck) else
                  "The deck has no cards yet.")
            return 0
        drill.run_session(cards, progress, deck=deck)
    except BrokenPipeError:  # the output went to a pager or `head` that has closed; progress is already saved
        sys.stdout = open(os.devnull, "w")
        return 1
    except OSError as err:
        print(f"error: could not save progress to {progress.path}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nInterrupted; progress up to the last graded card is saved in {progress.path}.", file=sys.stderr)
        return 130
    return 0


def _nothing_due(deck: drill.Deck, progress: drill.Progress, now, topic: str | None) -> str:
    upcoming = drill.session_cards(deck, progress, now, topic=topic, limit=1)
    if not upcoming:
        return "Nothing due now."
    state = progress.state(upcoming[0].id, now)
    return f"Nothing due now. Next review: {upcoming[0].id} at {drill.format_time(state.due)}."


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
