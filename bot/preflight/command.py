"""`tuneops validate FILE [--model M] [--epochs N|auto] [--method supervised|dpo] [--json]`.

Exit 0 when the file can be trained, 1 when it cannot, 2 when the command itself was misused (bad
arguments, an unreadable file, an unusable price file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import ConfigError, load_settings
from bot.jobs.prices import PriceFileError, load_price_table
from bot.preflight.epochs import MAX_EPOCHS
from bot.preflight.model_facts import DEFAULT_MODEL
from bot.preflight.report import render_text
from bot.preflight.tokens import TokenizerUnavailable
from bot.preflight.validate import Options, validate_path

TRAINABLE, NOT_TRAINABLE, USAGE = 0, 1, 2


def epochs_argument(value: str) -> int | None:
    """`auto` (None) or a whole number of epochs from 1 to 50."""
    if value.strip().lower() == "auto":
        return None
    try:
        epochs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of epochs or auto") from None
    if not 1 <= epochs <= MAX_EPOCHS:
        raise argparse.ArgumentTypeError(f"epochs must be from 1 to {MAX_EPOCHS}, or auto")
    return epochs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the JSONL training file")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"base model (default {DEFAULT_MODEL})")
    parser.add_argument(
        "--epochs", type=epochs_argument, default=None, metavar="N|auto", help="epochs (default auto)"
    )
    parser.add_argument("--method", choices=("supervised", "dpo"), default="supervised")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run_validate(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"tuneops validate: {path} is not a file", file=sys.stderr)
        return USAGE
    try:
        prices = load_price_table(load_settings().prices_file)
    except (ConfigError, PriceFileError) as exc:
        print(f"tuneops validate: {exc}", file=sys.stderr)
        return USAGE
    options = Options(model=args.model, epochs=args.epochs, method=args.method)
    try:
        report = validate_path(path, options, prices)
    except OSError as exc:
        print(f"tuneops validate: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return USAGE
    except TokenizerUnavailable as exc:
        print(f"tuneops validate: {exc}", file=sys.stderr)
        return USAGE
    print(json.dumps(report.as_dict(), indent=2) if args.json else render_text(report))
    return TRAINABLE if report.trainable else NOT_TRAINABLE
