"""Command line: ``python -m curriculum COMMAND``.

    python -m curriculum drill [--topic T] [--due [--daily-cap N]] [--limit N] [--file PATH]
                               [--stats | --skills | --plan [--start YYYY-MM-DD] | --mock [--problem N ...]
                                | --search WORDS | --list | --undo | --reset TOPIC [--yes] | --export PATH]

Exit codes: 0 ok, 1 the deck or the progress file cannot be used, 2 usage error.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from curriculum import drill, syllabus

DRILL_EPILOG = f"""\
scheduling: strong hire moves a card up one box (at most 4), lean hire keeps it in its box (at least
box 1), no hire sends it back to box 0 and asks it again before the session ends; box b comes back after
{', '.join(map(str, drill.INTERVALS_DAYS))} days. Review dates are calendar days in your time zone: a card
due on the 4th is due from the start of the 4th, wherever you are.

study plan: --plan shows the checkpoints (days 0, 3, 7, 14 and 21 from your start date), today's tasks
(cards, notebook sections, timed problems) and what is overdue. --mock runs the five practice problems
in {drill.MOCK_BUDGET_S // 60} minutes; --mock --problem 3 --problem 5 runs the day-14 pair.

environment:
  {drill.FILE_ENV}   progress file (default: the user data folder; --file wins)
  {drill.TZ_ENV}     your time zone, e.g. Asia/Tokyo or +09:00 (default: the system's)
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


def _problem(text: str) -> int:
    count = len(drill.PRACTICE_PROBLEMS)
    if not text.isdigit() or not 1 <= int(text) <= count:
        raise argparse.ArgumentTypeError(f"must be a practice problem number from 1 to {count}, got {text!r}")
    return int(text)


def _day(text: str) -> date:
    try:
        return drill.clock.parse_day(text, "the start date")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


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
    sub.add_argument("--due", action="store_true", help="only cards due today, at most --daily-cap a day")
    sub.add_argument("--daily-cap", metavar="N", type=_positive_int,
                     help=f"with --due: at most N cards a day, counting those reviewed earlier today "
                          f"(default {drill.DAILY_CAP})")
    sub.add_argument("--limit", metavar="N", type=_positive_int, help="at most N cards this session")
    mode = sub.add_mutually_exclusive_group()
    mode.add_argument("--stats", action="store_true",
                      help="print a summary (boxes, due cards, reviews, accuracy, skill ratings) and exit")
    mode.add_argument("--skills", action="store_true", help="rate each skill 1-5 (Enter keeps the previous rating)")
    mode.add_argument("--plan", action="store_true",
                      help="the 21-day study plan: today's checkpoint tasks and what is overdue")
    mode.add_argument("--mock", action="store_true",
                      help=f"mock interview: the practice problems timed in sequence "
                           f"({drill.MOCK_BUDGET_S // 60} minutes), then rubrics and self-grades")
    mode.add_argument("--search", metavar="WORDS", help="list the cards holding every word (with --topic: in it)")
    mode.add_argument("--list", action="store_true", help="list the cards (with --topic: of that topic)")
    mode.add_argument("--undo", action="store_true", help="undo the last grade")
    mode.add_argument("--reset", metavar="TOPIC",
                      help="start TOPIC over: its cards become new; their history is archived in the file")
    mode.add_argument("--export", metavar="PATH", type=Path,
                      help="write the cards (with --topic: that topic's) to PATH: .csv, or .apkg for Anki")
    sub.add_argument("--start", metavar="YYYY-MM-DD", type=_day, help="with --plan: set the plan's day 0")
    sub.add_argument("--problem", metavar="N", type=_problem, action="append",
                     help="with --mock: only practice problem N (repeat it for several)")
    sub.add_argument("--yes", action="store_true", help="with --reset: do not ask for confirmation")
    sub.add_argument("--file", metavar="PATH", type=Path,
                     help=f"progress file (default: ${drill.FILE_ENV}, else the user data folder)")
    sub.set_defaults(run=run_drill, parser=sub)
    return parser


def _check_combinations(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    for option, needs, given in (("--start", "--plan", args.start), ("--problem", "--mock", args.problem),
                                 ("--yes", "--reset", args.yes), ("--daily-cap", "--due", args.daily_cap)):
        wanted = {"--plan": args.plan, "--mock": args.mock, "--reset": args.reset, "--due": args.due}[needs]
        if given and not wanted:
            parser.error(f"argument {option}: only with {needs}")


def _check_topic(name: str, option: str, deck: drill.Deck, parser: argparse.ArgumentParser) -> None:
    if name in deck.topics:
        return
    if name in syllabus.TOPICS:
        parser.error(f"argument {option}: topic {name!r} has no cards yet; topics with cards: "
                     f"{', '.join(deck.topics) or '(none)'}")
    parser.error(f"argument {option}: unknown topic {name!r}; valid topics: "
                 f"{', '.join(deck.topics or syllabus.TOPICS)}")


def run_drill(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    _check_combinations(args, parser)
    try:
        now = drill.current_time()
    except ValueError as err:
        parser.error(str(err))
    try:
        deck = drill.load_deck(os.environ.get(drill.DECK_ENV, "").strip() or None)
    except drill.DeckError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for name, option in ((args.topic, "--topic"), (args.reset, "--reset")):
        if name is not None:
            _check_topic(name, option, deck, parser)
    try:
        progress = drill.load_progress(args.file, now=now)
    except drill.ProgressError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for notice in progress.notices:
        print(f"warning: {notice}", file=sys.stderr)
    progress.notices.clear()

    width = drill.termtext.terminal_width()
    if args.stats:
        print(drill.format_stats(deck, progress, now, args.topic))
        return 0
    if args.search is not None or args.list:
        return _list_cards(args, deck, progress, now, width)
    if args.export is not None:
        return _export(args, deck, parser, now)
    try:
        if args.plan:
            return _plan(args, deck, progress, now, width)
        drill.check_writable(progress.path)  # every other mode saves: fail now, before any card
        if args.skills:
            drill.run_skills(deck, progress, topics=[args.topic] if args.topic else None)
        elif args.mock:
            try:
                drill.run_mock(deck, progress, problems=args.problem)
            except ValueError as err:  # a deck without the practice problems' cards
                print(f"error: {err}", file=sys.stderr)
                return 1
        elif args.undo:
            _undo(deck, progress, now)
        elif args.reset is not None:
            _reset(args, deck, progress, now)
        else:
            _session(args, deck, progress, now)
    except BrokenPipeError:  # the output went to a pager or `head` that has closed; progress is already saved
        sys.stdout = open(os.devnull, "w")
        return 1
    except drill.ProgressPermissionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: could not save progress to {progress.path}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nInterrupted; progress up to the last graded card is saved in {progress.path}.", file=sys.stderr)
        return 130
    return 0


def _session(args: argparse.Namespace, deck: drill.Deck, progress: drill.Progress, now) -> None:
    cards = drill.session_cards(deck, progress, now, topic=args.topic, due_only=args.due)
    waiting: list[drill.Card] = []
    if args.due:
        cap = args.daily_cap or drill.DAILY_CAP
        cards, waiting, done_today = drill.daily_allowance(cards, progress, now, cap)
        if waiting:
            print(f"Daily cap: {cap} cards a day ({done_today} reviewed today), so {len(waiting)} due card(s) "
                  f"wait for tomorrow. Change it with --daily-cap N.")
    if args.limit is not None:
        cards = cards[:args.limit]
    if not cards:
        if not waiting:  # (the cap's message has said why there is nothing more today)
            print(_nothing_due(deck, progress, now, args.topic) if len(deck) else "The deck has no cards yet.")
        return
    drill.run_session(cards, progress, deck=deck)


def _nothing_due(deck: drill.Deck, progress: drill.Progress, now, topic: str | None) -> str:
    upcoming = [card for card in drill.session_cards(deck, progress, now, topic=topic)
                if progress.state(card.id, now).due > drill.local_date(now)]
    if not upcoming:
        return "Nothing more today."
    state = progress.state(upcoming[0].id, now)
    return f"Nothing due today. Next review: {upcoming[0].id} on {state.due:%Y-%m-%d}."


def _plan(args: argparse.Namespace, deck: drill.Deck, progress: drill.Progress, now, width: int) -> int:
    if args.start is not None or progress.start_date is None:
        drill.check_writable(progress.path)
        progress.set_start(args.start or drill.local_date(now))
        drill.save_progress(progress, now=now)
        print(f"Study plan start date (day 0): {progress.start_date:%Y-%m-%d}.\n")
    print(drill.format_plan(drill.plan_view(deck, progress, now), width, args.daily_cap or drill.DAILY_CAP))
    return 0


def _list_cards(args: argparse.Namespace, deck: drill.Deck, progress: drill.Progress, now, width: int) -> int:
    if args.search is not None:
        try:
            cards = drill.search_cards(deck, args.search, args.topic)
        except ValueError as err:
            args.parser.error(f"argument --search: {err}")
        heading = f"{len(cards)} card(s) match {args.search!r}" + (f" in {args.topic}" if args.topic else "")
    else:
        cards = list(deck.by_topic(args.topic) if args.topic else deck.cards)
        heading = f"{len(cards)} card(s)" + (f" in {args.topic}" if args.topic else "")
    print(heading + (":" if cards else "."))
    if cards:
        print(drill.format_card_list(cards, deck, progress, now, width))
    return 0


def _export(args: argparse.Namespace, deck: drill.Deck, parser: argparse.ArgumentParser, now) -> int:
    cards = deck.by_topic(args.topic) if args.topic else deck.cards
    try:
        path = drill.export_deck(deck, args.export, cards, now=now)
    except ValueError as err:
        parser.error(f"argument --export: {err}")
    except OSError as err:
        print(f"error: could not write {args.export}: {err}", file=sys.stderr)
        return 1
    kind = "an Anki package (import it in Anki, then sync to your phone)" if path.suffix == ".apkg" else "CSV"
    print(f"Wrote {len(cards)} card(s) to {path} as {kind}.")
    return 0


def _undo(deck: drill.Deck, progress: drill.Progress, now) -> None:
    found = drill.undo_last(progress, now)
    if found is None:
        print("Nothing to undo: the progress file has no grade.")
        return
    drill.save_progress(progress, now=now)
    card_id, review = found
    when = review.time.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M")
    state = progress.state(card_id, now)
    where = "new again, due today" if state.is_new else (f"back in box {state.box}, next review "
                                                         f"{drill.clock.when_text(state.due, now)}")
    print(f"Undid {drill.GRADE_LABELS[review.grade]} on {card_id} (graded {when}): the card is {where}.")


def _reset(args: argparse.Namespace, deck: drill.Deck, progress: drill.Progress, now) -> None:
    topic = args.reset
    known = [card.id for card in deck.by_topic(topic) if card.id in progress.cards]
    if not known and not any(card_id.startswith(f"{topic}-") for card_id in progress.cards):
        print(f"Nothing to reset: no progress for topic {topic!r}.")
        return
    if not args.yes:
        print(f"Reset {topic}: its {len(known)} reviewed card(s) become new; their history moves to the file's "
              f"archive. Type yes to confirm: ", end="", flush=True)
        answer = sys.stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            print("\nNot reset." if not answer else "Not reset.")
            return
    reset = drill.reset_topic(progress, deck, topic, now)
    drill.save_progress(progress, now=now)
    print(f"Reset {topic}: {len(reset)} card(s) are new again (their history is archived in {progress.path}).")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
