"""`hocvuso ask` and `hocvuso eval`: the assistant from the terminal, and its measurement."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.assistant import Assistant
from bot.content import load_content
from bot.engine import texts
from bot.evaluation import evaluate, load_items, render

DEFAULT_EVAL = Path("../shared/eval/questions-dev.yaml")


def answer_record(assistant: Assistant, question: str) -> dict[str, Any]:
    """The JSON object of DESIGN.md: topic (null when not confident), id, score, answer."""
    suggestion = assistant.suggest(question)
    if suggestion is not None:
        return {
            "topic": suggestion.topic,
            "id": suggestion.id or None,
            "score": round(suggestion.score, 1),
            "answer": suggestion.answer,
        }
    ranked = assistant.rank(question, limit=1)
    return {
        "topic": None,
        "id": None,
        "score": round(ranked[0].score, 1) if ranked else 0.0,
        "answer": None,
    }


def run_ask(
    content_dir: Path, question: str | None, as_json: bool, source: TextIO, sink: TextIO
) -> int:
    """Answer one question, or one per line of `source` when no question is given."""
    assistant = Assistant(load_content(content_dir))
    questions: Iterable[str] = [question] if question is not None else source
    for line in questions:
        text = line.rstrip("\n")
        if question is None and not text.strip():
            continue
        record = answer_record(assistant, text)
        if as_json:
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif record["answer"]:
            sink.write(f"{record['answer']}\n[{record['topic']} · {record['id']}]\n")
        else:
            topics = ", ".join(assistant.closest_topics(text))
            sink.write(f"{texts.ASK_NOT_SURE}\n[gần nhất: {topics}]\n")
        sink.flush()
    return 0


def run_eval(content_dir: Path, path: Path, as_json: bool, sink: TextIO = sys.stdout) -> int:
    """Measure the assistant on a labelled question set and print the figures."""
    if not path.is_file():
        print(f"hocvuso: no question set at {path}", file=sys.stderr)
        return 2
    report = evaluate(Assistant(load_content(content_dir)), load_items(path))
    if as_json:
        sink.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sink.write(render(report) + "\n")
    return 0
