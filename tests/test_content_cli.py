"""`hocvuso content check` as authors run it, and the starter content it guards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from server import PROJECT

from bot.content import ChoiceQuestion, load_content

BROKEN = PROJECT / "tests" / "fixtures" / "content"


def _hocvuso(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", *args],
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_prints_file_and_line_and_exits_1() -> None:
    result = _hocvuso("content", "check", str(BROKEN / "long-text"))
    assert result.returncode == 1
    assert "lessons/qr.yaml:14: card 3 is 412 characters long; the limit is 350" in result.stdout


def test_check_reports_yaml_syntax_errors_with_lines() -> None:
    result = _hocvuso("content", "check", str(BROKEN / "yaml-syntax"))
    assert result.returncode == 1
    assert "lessons/colon.yaml:2: YAML syntax error" in result.stdout


def test_check_passes_on_the_project_content() -> None:
    result = _hocvuso("content", "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_serve_refuses_broken_content_and_says_where(tmp_path: Path) -> None:
    env = {
        "HOCVUSO_CONTENT_DIR": str(BROKEN / "missing-lesson"),
        "HOCVUSO_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    result = _hocvuso("serve", "--port", "1", env=env)
    assert result.returncode == 1
    assert "quizzes/otp.yaml:2:" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_starter_lessons_cover_the_three_first_subjects_with_sources() -> None:
    content = load_content(PROJECT)
    required = {"vneid-muc-2": "vneid.level2", "chuyen-khoan-qr": "pay.qr"}
    required["gia-danh-cong-an"] = "safe.impersonation"
    for lesson_id, topic in required.items():
        lesson = content.lessons[lesson_id]
        assert topic in lesson.topics
        assert 3 <= len(lesson.cards) <= 6
        assert lesson.sources
        quiz = content.quiz_for(lesson_id)
        assert quiz is not None and 2 <= len(quiz.questions) <= 5
        for question in quiz.questions:
            if isinstance(question, ChoiceQuestion):
                assert all(option.explanation for option in question.options)
