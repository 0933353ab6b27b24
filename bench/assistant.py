"""Benchmark: the assistant's latency per question and its accuracy on the dev question set.

.venv/bin/python bench/assistant.py            # full run, updates docs/benchmarks.md
.venv/bin/python bench/assistant.py --smoke    # a few rounds, prints only (CI)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.assistant import Assistant  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.evaluation import evaluate, load_items, render  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "questions-dev.yaml"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
MARK = "## Assistant"


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


def write_section(report: str, figures: dict[str, float]) -> None:
    """Replace the assistant section of docs/benchmarks.md with this run's figures."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    section = "\n".join(
        [
            MARK,
            "",
            f"Run {dt.date.today().isoformat()} on {machine}. Reproduce: "
            "`.venv/bin/python bench/assistant.py` (the dev set must be at "
            "`../shared/eval/questions-dev.yaml`).",
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
        ]
    )
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n\n"
    if MARK in text:
        head, _, rest = text.partition(MARK)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text, encoding="utf-8")


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
        write_section(report, figures)
        print(f"updated {BENCHMARKS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
