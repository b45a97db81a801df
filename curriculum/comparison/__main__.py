"""Command line: train every model of notebook 10's comparison at its stated budget and write the weights.

    python -m curriculum.comparison train                       # everything: 2 toys x 10 families x 3 seeds + digits
    python -m curriculum.comparison train --data ring --family gan --seed 0
    python -m curriculum.comparison train --out /tmp/weights    # somewhere else than the package's assets

Deterministic: each model is trained from its seed alone, so rerunning rewrites the same weights on the same
machine and torch build. Takes about 30 minutes on 2 CPU cores; ``--steps`` shrinks the budget for a quick try
(the notebook's checks expect the default budget).
"""
from __future__ import annotations

import argparse
import sys

from . import train_all
from .digits import DIGIT_FAMILIES
from .recipes import TOY_FAMILIES, Budget

DATA = ("ring", "moons", "digits")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m curriculum.comparison", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train and write the weights")
    train.add_argument("--data", nargs="+", choices=DATA, default=list(DATA))
    train.add_argument("--family", nargs="+", choices=sorted(set(TOY_FAMILIES) | set(DIGIT_FAMILIES)), default=None,
                       help="families to train (default: all)")
    train.add_argument("--seed", nargs="+", type=int, default=[0, 1, 2], help="training seeds of the toys")
    train.add_argument("--steps", type=int, default=Budget().steps, help="optimiser steps (default: the budget)")
    train.add_argument("--out", default=None, help="folder for the weights (default: the package's assets)")
    args = parser.parse_args(argv)
    if any(seed < 0 for seed in args.seed):
        parser.error(f"--seed must be non-negative integers, got {args.seed}")
    if args.steps < 1:
        parser.error(f"--steps must be a positive integer, got {args.steps}")
    train_all(args.data, args.family, args.seed, args.steps, args.out, log=print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
