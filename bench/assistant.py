"""Benchmark: the assistant's latency per question and its accuracy on the dev question set.

.venv/bin/python bench/assistant.py            # full run, updates docs/benchmarks.md
.venv/bin/python bench/assistant.py --smoke    # a few rounds, prints only (CI)
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import run_line  # noqa: E402
from bench.report import write_section as write_report_section  # noqa: E402
from bot.assistant import Assistant  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.evaluation import evaluate, load_items, render  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "questions-dev.yaml"


def measure(rounds: int) -> tuple[str, dict[str, float]]:
    """Run the dev set `rounds` times; return the report text and the latency figures."""
    started = time.perf_counter()
    content = load_content(ROOT)
    assistant = Assistant(content)
    build_ms = (time.perf_counter() - started) * 1000
    items = load_items(DEV_SET)
    report = evaluate(assistant, items)
    latencies: list[float] = []
    for _ in range(rounds):
        for item in items:
            t0 = time.perf_counter()
            assistant.suggest(item.question)
            latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    figures = {
        "questions": float(len(latencies)),
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
        "max_ms": latencies[-1],
        "build_ms": build_ms,
        "wordings": float(sum(1 + len(a.paraphrases) for a in content.answers.values())),
    }
    return render(report), figures


def cross_validate(folds: int = 5) -> dict[str, float]:
    """Accuracy on wordings the assistant never saw: each fold's entries are held out.

    The dev set measures the tuned system; this checks it generalises. Every fifth answer
    entry (all its wordings) and every fifth off-topic example is removed from the content,
    the assistant is built on the rest, and the removed wordings are asked: an in-scope one
    counts when its topic is found, an off-topic one when it is declined.
    """
    content = load_content(ROOT)
    answers = list(content.answers.values())
    found = asked = declined = off = 0
    for fold in range(folds):
        kept = {a.id: a for i, a in enumerate(answers) if i % folds != fold}
        held = [a for i, a in enumerate(answers) if i % folds == fold]
        offtopic = tuple(t for i, t in enumerate(content.offtopic) if i % folds != fold)
        held_off = [t for i, t in enumerate(content.offtopic) if i % folds == fold]
        assistant = Assistant(dataclasses.replace(content, answers=kept, offtopic=offtopic))
        for answer in held:
            for wording in answer.wordings:
                suggestion = assistant.suggest(wording)
                asked += 1
                found += suggestion is not None and suggestion.topic == answer.topic
        for text in held_off:
            off += 1
            declined += assistant.suggest(text) is None
    return {
        "cv_asked": float(asked),
        "cv_found": found / max(asked, 1),
        "cv_off": float(off),
        "cv_declined": declined / max(off, 1),
    }


def write_section(report: str, figures: dict[str, float]) -> None:
    """Replace the assistant section of docs/benchmarks.md with this run's figures."""
    body = "\n".join(
        [
            run_line(".venv/bin/python bench/assistant.py")
            + " The dev set must be at `../shared/eval/questions-dev.yaml`.",
            "",
            f"Index: {int(figures['wordings'])} bank wordings plus lesson titles, built in "
            f"{figures['build_ms']:.0f} ms at start-up.",
            "",
            "| measure | value | target |",
            "|---|---|---|",
            f"| latency p50 per question | {figures['p50_ms']:.2f} ms | |",
            f"| latency p95 per question | {figures['p95_ms']:.2f} ms | < 5 ms |",
            f"| latency max | {figures['max_ms']:.2f} ms | |",
            f"| questions timed | {int(figures['questions'])} | |",
            "",
            "Accuracy on the dev set (`hocvuso eval`):",
            "",
            "```",
            report,
            "```",
            "",
            "Targets: at least 90% top-1 on in-scope questions and 80% of out-of-scope ones "
            "declined.",
            "",
            "Held-out check (5-fold over the bank: each fold's answer entries and off-topic "
            "examples are removed, the assistant is rebuilt, and the removed wordings are "
            f"asked): topic found for {figures['cv_found']:.1%} of "
            f"{int(figures['cv_asked'])} unseen wordings; {figures['cv_declined']:.1%} of "
            f"{int(figures['cv_off'])} unseen off-topic examples declined. The dev set tuned "
            "the thresholds; these wordings tuned nothing.",
        ]
    )
    write_report_section("Assistant", body)


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 rounds, do not write docs")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if not DEV_SET.is_file():
        print(f"bench: no dev set at {DEV_SET}", file=sys.stderr)
        return 2
    report, figures = measure(2 if args.smoke else args.rounds)
    print(report)
    print(f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms per question")
    if not args.smoke:
        figures.update(cross_validate())
        print(
            f"held out: topic found {figures['cv_found']:.1%} of {int(figures['cv_asked'])}, "
            f"off-topic declined {figures['cv_declined']:.1%} of {int(figures['cv_off'])}"
        )
        write_section(report, figures)
        print("updated docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
