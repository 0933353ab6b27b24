"""`hocvuso learners show|delete`: an operator answers a learner's request about their data."""

from __future__ import annotations

import argparse
import json
import sys

from hocvuso.settings import Settings


def add_learners_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `learners show` and `learners delete` to the `hocvuso` command."""
    learners = commands.add_parser(
        "learners", help="a learner's request to see or delete their data"
    )
    learners_commands = learners.add_subparsers(dest="learners_command", required=True)
    for name, text in (
        ("show", "print everything stored about one learner, as JSON"),
        ("delete", 'de-identify one learner, as typing "xóa dữ liệu" does'),
    ):
        sub = learners_commands.add_parser(name, help=text)
        sub.add_argument("--channel", help="telegram, zalo, web, assisted ...")
        sub.add_argument("--chat-id", dest="chat_id", help="the chat id on that channel")
        sub.add_argument("--id", dest="learner_id", type=int, help="or the learner's id")


def run_learners(settings: Settings, args: argparse.Namespace) -> int:
    """Find the learner by channel and chat id (or id), then show or de-identify them."""
    from storage.db import make_engine, migrate
    from storage.deidentify import DELETED_CHANNEL
    from storage.learner_data import delete_learner_data, find_learner, learner_data

    by_chat = args.channel is not None and args.chat_id is not None
    half_a_chat = (args.channel is None) != (args.chat_id is None)
    if half_a_chat or by_chat == (args.learner_id is not None):
        print("hocvuso: give either --channel and --chat-id, or --id", file=sys.stderr)
        return 2
    database = make_engine(settings.database_url)
    try:
        migrate(database)
        learner_id = args.learner_id
        if by_chat:
            learner_id = find_learner(database, args.channel, args.chat_id)
        data = None if learner_id is None else learner_data(database, learner_id)
        if data is None or not data["learner"]:
            who = f"chat {args.chat_id} on {args.channel}" if by_chat else f"id {learner_id}"
            print(f"hocvuso: no learner with {who} (nothing is stored)", file=sys.stderr)
            return 1
        if args.learners_command == "show":
            json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
            print()
            return 0
        if data["learner"][0]["channel"] == DELETED_CHANNEL:
            print(f"learner {learner_id} was de-identified already; nothing personal is left")
            return 0
        assert learner_id is not None
        delete_learner_data(database, learner_id)
    finally:
        database.dispose()
    print(f"deleted the personal data of learner {learner_id}; the anonymous counts stay")
    return 0
