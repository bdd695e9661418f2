"""The `tuneops` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tuneops", description="Run and watch fine-tuning jobs from Slack.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser(
        "run", help="the service (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT)"
    )

    sandbox = commands.add_parser("sandbox", help="everything on this machine: emulator, Slack stand-in, bot")
    sandbox.add_argument(
        "--port", type=int, default=8765, help="port of the Slack stand-in page (default 8765)"
    )
    sandbox.add_argument(
        "--speed", type=float, default=10.0, help="emulated jobs run this many times faster (default 10)"
    )
    sandbox.add_argument("--db", default=None, help="SQLite file (default: a fresh file in a temp directory)")
    sandbox.add_argument("--no-browser", action="store_true", help="do not try to open a browser")
    sandbox.add_argument(
        "--emulator",
        action="store_true",
        help="use the emulator even when an OpenAI or Azure key is configured (by default a key means the real API)",
    )

    emulator = commands.add_parser("emulator", help="the fine-tuning API emulator alone")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8089)
    emulator.add_argument("--speed", type=float, default=1.0, help="how many times faster than a real job")
    emulator.add_argument("--api-key", default="sk-emulator", help="the one key accepted")
    emulator.add_argument("--seed", type=int, default=0, help="seed for the emulated metrics")
    emulator.add_argument(
        "--webhook-url",
        default=None,
        help="POST signed job-end events here (e.g. http://127.0.0.1:3000/webhooks/fine-tuning)",
    )
    emulator.add_argument(
        "--webhook-secret",
        default=None,
        help="the whsec_… secret to sign them with (the bot's TUNEOPS_WEBHOOK_SECRET)",
    )

    commands.add_parser("check", help="validate configuration and reach Slack and the fine-tuning API")
    commands.add_parser("migrate", help="apply storage migrations")

    from bot.preflight.command import add_arguments as add_validate_arguments

    add_validate_arguments(
        commands.add_parser("validate", help="check a JSONL training file before it costs money")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "emulator":
            from bot.sandbox.emulator.server import serve_forever
            from bot.sandbox.emulator.webhooks import WebhookConfigError

            if (args.webhook_url is None) != (args.webhook_secret is None):
                print("tuneops emulator: --webhook-url and --webhook-secret go together", file=sys.stderr)
                return 2
            try:
                asyncio.run(
                    serve_forever(
                        host=args.host,
                        port=args.port,
                        speed=args.speed,
                        api_key=args.api_key,
                        seed=args.seed,
                        webhook_url=args.webhook_url,
                        webhook_secret=args.webhook_secret,
                    )
                )
            except WebhookConfigError as error:
                print(f"tuneops emulator: {error}", file=sys.stderr)
                return 2
            return 0
        if args.command == "migrate":
            from bot.app.serve import migrate

            return asyncio.run(migrate())
        if args.command == "check":
            from bot.app.check import run_check

            return asyncio.run(run_check())
        if args.command == "validate":
            from bot.preflight.command import run_validate

            return run_validate(args)
        if args.command == "run":
            from bot.app.serve import run_service

            return asyncio.run(run_service())
        if args.command == "sandbox":
            from bot.sandbox.command import run_sandbox

            return asyncio.run(
                run_sandbox(
                    port=args.port,
                    speed=args.speed,
                    db=args.db,
                    open_browser=not args.no_browser,
                    use_real_api=False if args.emulator else None,
                )
            )
    except KeyboardInterrupt:
        return 130
    parser_error = f"unknown command {args.command!r}"
    print(parser_error, file=sys.stderr)
    return 2
