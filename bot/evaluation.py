"""Measuring the assistant on a labelled question set (e.g. ../shared/eval/questions-dev.yaml).

Reports top-1 topic accuracy on in-scope questions, overall and per style, and the share of
out-of-scope questions (`topic: null`) the assistant declined ("not sure").
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.assistant import Assistant


@dataclass(frozen=True)
class Item:
    """One labelled question."""

    question: str
    topic: str | None
    style: str


@dataclass
class Report:
    """What the evaluation found."""

    in_scope: int = 0
    correct: int = 0
    out_of_scope: int = 0
    declined: int = 0
    by_style: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[dict[str, Any]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Top-1 topic accuracy on in-scope questions."""
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def declined_share(self) -> float:
        """Share of out-of-scope questions answered "not sure"."""
        return self.declined / self.out_of_scope if self.out_of_scope else 0.0

    def p95_ms(self) -> float:
        """95th percentile of the time to answer one question."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain data (for --json)."""
        return {
            "in_scope": self.in_scope,
            "top1_accuracy": round(self.accuracy, 4),
            "by_style": {
                style: {"correct": c, "total": t, "accuracy": round(c / t, 4) if t else None}
                for style, (c, t) in sorted(self.by_style.items())
            },
            "out_of_scope": self.out_of_scope,
            "declined": self.declined,
            "declined_share": round(self.declined_share, 4),
            "p95_ms": round(self.p95_ms(), 3),
        }


def load_items(path: Path) -> list[Item]:
    """Read a question set: `items: [{q, topic, style}]`."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Item(str(item["q"]), item.get("topic"), str(item.get("style", "standard")))
        for item in raw["items"]
    ]


def evaluate(assistant: Assistant, items: list[Item]) -> Report:
    """Ask every question and score the topic of the answer (None = not sure)."""
    report = Report()
    for item in items:
        started = time.perf_counter()
        suggestion = assistant.suggest(item.question)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        got = suggestion.topic if suggestion else None
        if item.topic is None:
            report.out_of_scope += 1
            report.declined += got is None
            if got is not None:
                report.misses.append({"q": item.question, "want": None, "got": got})
            continue
        report.in_scope += 1
        right = got == item.topic
        report.correct += right
        tally = report.by_style[item.style]
        tally[0] += right
        tally[1] += 1
        if not right:
            report.misses.append({"q": item.question, "want": item.topic, "got": got})
    return report


def render(report: Report) -> str:
    """A short human-readable summary."""
    lines = [
        f"top-1 topic accuracy (in scope): {report.correct}/{report.in_scope} "
        f"= {report.accuracy:.1%}",
    ]
    for style, (correct, total) in sorted(report.by_style.items()):
        lines.append(f"  {style:<14} {correct}/{total} = {correct / total:.1%}")
    lines.append(
        f"out of scope declined: {report.declined}/{report.out_of_scope} "
        f"= {report.declined_share:.1%}"
    )
    lines.append(f"p95 latency: {report.p95_ms():.2f} ms per question")
    return "\n".join(lines)
