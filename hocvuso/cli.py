"""The `hocvuso` command: serve, chat in the terminal, check content."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.commune import CommuneError
from bot.content import ContentError, check_content
from hocvuso.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hocvuso", description="Trợ lý Bình dân học vụ số: học kỹ năng số qua trò chuyện."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web chat, API and chat channels")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--as", dest="chat_id", help="learner name to chat as (default: your user)")

    content = commands.add_parser("content", help="work with lessons and quizzes")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser("check", help="validate lessons/ and quizzes/")
    check.add_argument("path", nargs="?", type=Path, help="content folder (default: configured)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hocvuso` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "content":
            return _content_check(args.path)
        settings = load_settings()
        if args.command == "serve":
            return _serve(settings, args.host, args.port)
        return _chat(settings, args.chat_id)
    except SettingsError as exc:
        print(f"hocvuso: {exc}", file=sys.stderr)
        return 2
    except ContentError as exc:
        print(*exc.problems, sep="\n", file=sys.stderr)
        print(f"hocvuso: {len(exc.problems)} problem(s) in the content", file=sys.stderr)
        return 1
    except CommuneError as exc:
        print(f"hocvuso: commune file: {exc}", file=sys.stderr)
        return 1


def _content_check(path: Path | None) -> int:
    """Print `file:line: problem` for every problem; exit 1 if there is any."""
    root = path if path is not None else load_settings().content_dir
    problems = check_content(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"OK: {root} has no problems")
    return 0


def _serve(settings: Settings, host: str, port: int) -> int:
    """Run everything in one process until interrupted."""
    import uvicorn

    from hocvuso import logsafe
    from hocvuso.app import create_app
    from hocvuso.services import build_services, secrets_of

    logsafe.configure(secrets_of(settings))
    services = build_services(settings)
    print(f"hocvuso: web chat at http://{host}:{port}/", flush=True)
    # log_config=None: uvicorn's loggers go through our redacting root handler too.
    uvicorn.run(create_app(services), host=host, port=port, log_config=None)
    return 0


def _chat(settings: Settings, chat_id: str | None) -> int:
    """Hold the conversation on standard input and output."""
    from bot.channels import console
    from hocvuso.services import build_services

    services = build_services(settings)
    console.run(services.engine, sys.stdin, sys.stdout, chat_id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
