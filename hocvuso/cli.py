"""The `hocvuso` command: serve, chat in the terminal, check content, officials' tokens."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commune import CommuneError, load_commune
from bot.content import ContentError, check_content
from hocvuso.learners_cmd import add_learners_parser
from hocvuso.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from storage.officials import OfficialStore


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
    catalog = content_commands.add_parser("catalog", help="a printable list of all the content")
    catalog.add_argument("path", nargs="?", type=Path, help="content folder (default: configured)")
    catalog.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    catalog.add_argument("--format", choices=("md", "html"), default="md", help="default: md")

    ask = commands.add_parser("ask", help="ask the assistant (one question, or one per line)")
    ask.add_argument("question", nargs="?", help="the question (default: read standard input)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")

    evaluation = commands.add_parser("eval", help="measure the assistant on a question set")
    evaluation.add_argument("path", nargs="?", type=Path, default=None)
    evaluation.add_argument("--json", action="store_true", help="figures as JSON")

    officials = commands.add_parser("officials", help="API tokens for commune officials")
    officials_commands = officials.add_subparsers(dest="officials_command", required=True)
    add = officials_commands.add_parser("add", help="make a token (printed once)")
    add.add_argument("name", help='the official\'s name, e.g. "Nguyễn Thị Lan"')
    # No argparse `choices`: a bad role gets our one-line message, not the usage text.
    add.add_argument("--role", required=True, help="admin, viewer or hamlet")
    add.add_argument("--hamlet", dest="hamlet_id", help="hamlet id (role hamlet only)")
    revoke = officials_commands.add_parser("revoke", help="revoke an official's token")
    revoke.add_argument("name")
    officials_commands.add_parser("list", help="list officials (never their tokens)")
    volunteers = commands.add_parser("volunteers", help="invite codes for volunteer teams")
    volunteers_commands = volunteers.add_subparsers(dest="volunteers_command", required=True)
    invite = volunteers_commands.add_parser("invite", help="make an invite code (printed once)")
    invite.add_argument("--org", required=True, help='the team, e.g. "Đoàn Thanh niên xã"')
    invite.add_argument("--days", type=int, default=30, help="days the code stays valid")

    backup = commands.add_parser("backup", help="online backup of the SQLite database")
    backup.add_argument(
        "file", nargs="?", type=Path, help="default: backups/<name>-<UTC time>.db by the database"
    )
    restore = commands.add_parser("restore", help="restore a SQLite backup (service stopped)")
    restore.add_argument("file", type=Path, help="a file made by `hocvuso backup`")
    restore.add_argument(
        "--force", action="store_true", help="restore even if the database seems in use"
    )
    add_learners_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hocvuso` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "content" and args.content_command == "catalog":
            return _content_catalog(args.path, args.format, args.out)
        if args.command == "content":
            return _content_check(args.path)
        settings = load_settings()
        if args.command == "ask":
            from hocvuso.ask_cmd import run_ask

            return run_ask(settings.content_dir, args.question, args.json, sys.stdin, sys.stdout)
        if args.command == "eval":
            from hocvuso.ask_cmd import DEFAULT_EVAL, run_eval

            return run_eval(settings.content_dir, args.path or DEFAULT_EVAL, args.json)
        if args.command == "officials":
            return _officials(settings, args)
        if args.command == "volunteers":
            return _invite_volunteers(settings, args.org, args.days)
        if args.command in ("backup", "restore"):
            from hocvuso.backup_cmd import run_backup, run_restore

            if args.command == "backup":
                return run_backup(settings, args.file)
            return run_restore(settings, args.file, args.force)
        if args.command == "learners":
            from hocvuso.learners_cmd import run_learners

            return run_learners(settings, args)
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


def _content_catalog(path: Path | None, fmt: str, out: Path | None) -> int:
    """Write the catalogue of lessons, quizzes, answers and paths; content problems exit 1."""
    from bot.catalog import catalog
    from bot.content import load_content

    root = path if path is not None else load_settings().content_dir
    text = catalog(load_content(root), fmt)
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"hocvuso: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"hocvuso: catalogue written to {out}", file=sys.stderr)
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


def _invite_volunteers(settings: Settings, org: str, days: int) -> int:
    """Print a new volunteer invite code for `org` on stdout, and only the code."""
    from storage.db import make_engine, migrate
    from storage.volunteers import create_invite

    if not org.strip() or not 1 <= days <= 366:
        print("hocvuso: give --org a name and --days between 1 and 366", file=sys.stderr)
        return 2
    database = make_engine(settings.database_url)
    try:
        migrate(database)
        code = create_invite(database, org, days)
    finally:
        database.dispose()
    print(f"invite code for {org.strip()} (valid {days} days):", file=sys.stderr)
    print(code)
    return 0


def _officials(settings: Settings, args: argparse.Namespace) -> int:
    """Add, revoke or list officials' API tokens, on a migrated database."""
    from storage.db import make_engine, migrate
    from storage.officials import OfficialStore

    database = make_engine(settings.database_url)
    try:
        migrate(database)
        store = OfficialStore(database)
        if args.officials_command == "add":
            return _add_official(settings, store, args.name, args.role, args.hamlet_id)
        if args.officials_command == "revoke":
            return _revoke_official(store, args.name)
        return _list_officials(store)
    finally:
        database.dispose()


def _add_official(
    settings: Settings, store: OfficialStore, name: str, role: str, hamlet_id: str | None
) -> int:
    """Print a new token on stdout, and only the token, so scripts can capture it."""
    from storage.officials import check_role

    try:
        check_role(role, hamlet_id)
    except ValueError as exc:
        print(f"hocvuso: {exc}", file=sys.stderr)
        return 2
    if hamlet_id is not None:
        commune = load_commune(Path(settings.commune_file))
        if commune.hamlet(hamlet_id) is None:
            known = ", ".join(hamlet.id for hamlet in commune.hamlets)
            print(f"hocvuso: unknown hamlet {hamlet_id!r}; known: {known}", file=sys.stderr)
            return 2
    try:
        official, token = store.add(name, role, hamlet_id)
    except ValueError as exc:
        print(f"hocvuso: {exc}", file=sys.stderr)
        return 2
    print(token, flush=True)
    print(
        f"hocvuso: API token for {official.name} ({official.role}) above; it is shown only"
        " this once and cannot be recovered: keep it somewhere safe.",
        file=sys.stderr,
    )
    return 0


def _revoke_official(store: OfficialStore, name: str) -> int:
    """Revoke a token; exit 1 when nobody by that name holds one."""
    if store.revoke(name) == 0:
        print(f"hocvuso: no official named {name!r} has a valid token", file=sys.stderr)
        return 1
    print(f"revoked the token of {name}")
    return 0


def _list_officials(store: OfficialStore) -> int:
    """One line per official: name, role, hamlet, created, revoked; never a token or hash."""
    officials = store.list()
    if not officials:
        print("hocvuso: no officials yet", file=sys.stderr)
        return 0
    rows = [("NAME", "ROLE", "HAMLET", "CREATED (UTC)", "REVOKED (UTC)")]
    for official in officials:
        revoked = official.revoked_at
        rows.append(
            (
                official.name,
                official.role,
                official.hamlet_id or "-",
                f"{official.created_at:%Y-%m-%d %H:%M}",
                "-" if revoked is None else f"{revoked:%Y-%m-%d %H:%M}",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
