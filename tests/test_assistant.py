"""The assistant over the real question bank, with questions written for this test."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from server import PROJECT

from bot.assistant import Assistant
from bot.content import load_content


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    return Assistant(load_content(PROJECT))


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Mã OTP là gì vậy?", "pay.otp"),
        ("ma otp la gi", "pay.otp"),
        ("tải vneid ở đâu cho đúng", "vneid.install"),
        ("quen passcode vneid thi lam sao", "vneid.passcode"),
        ("số 156 để làm gì", "safe.report"),
        ("con toi choi game suot ngay, lam sao bao ve con tren mang", "safe.children"),
        ("dang nhap dich vu cong bang vneid", "dvc.login"),
    ],
)
def test_questions_in_own_words_find_their_topic(
    assistant: Assistant, question: str, topic: str
) -> None:
    found = assistant.suggest(question)
    assert found is not None, question
    assert found.topic == topic
    assert found.answer and len(found.answer) <= 600


@pytest.mark.parametrize(
    "question", ["giá lúa hôm nay bao nhiêu", "đội bóng nào vô địch năm nay", "😀😀😀", "a", ""]
)
def test_off_topic_questions_get_an_honest_not_sure(assistant: Assistant, question: str) -> None:
    assert assistant.suggest(question) is None


def test_not_sure_still_offers_the_nearest_topics(assistant: Assistant) -> None:
    topics = assistant.closest_topics("bị lừa mất tiền qua mạng thì báo ai", limit=3)
    assert 1 <= len(topics) <= 3
    assert all("." in topic for topic in topics)


def test_ask_command_prints_one_json_object_per_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "ask", "--json"],
        cwd=PROJECT,
        input="ma otp la gi\nđội bóng nào vô địch năm nay\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["topic"] for line in lines] == ["pay.otp", None]
    assert set(lines[0]) == {"topic", "id", "score", "answer"}
    assert lines[0]["id"] and lines[0]["answer"]
    one = subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "ask", "quên mật khẩu vneid", "--json"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(one.stdout)["topic"] == "vneid.login"
