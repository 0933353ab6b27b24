"""The assistant over the real question bank, with questions written for this test."""

from __future__ import annotations

import dataclasses
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


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        (
            "Cháu ơi, bác muốn gửi tiền cho thằng con ở xa mà không biết quét cái ô vuông đen"
            " trắng ấy thế nào",
            "pay.qr",
        ),
        (
            "Bác nghe người ta bảo phải có tài khoản định danh cấp 2 mới làm được giấy tờ, bác"
            " phải đi đâu làm hả cháu",
            "vneid.level2",
        ),
        (
            "Hôm qua có đứa gọi xưng là công an huyện, bảo bác liên quan đường dây ma túy, bắt"
            " chuyển tiền để xác minh, bác sợ quá",
            "safe.impersonation",
        ),
    ],
)
def test_long_spoken_questions_find_their_topic(
    assistant: Assistant, question: str, topic: str
) -> None:
    found = assistant.suggest(question)
    assert found is not None and found.topic == topic, question


@pytest.mark.parametrize(
    "question",
    [
        "ao ca nha toi bi chet hang loat, phai lam gi",
        "năm nay nên trồng giống lúa nào năng suất cao",
        "giá vé máy bay đi Sài Gòn tháng sau",
        "bác bị đau khớp gối, đi khám ở đâu tốt",
        "hom nay dong yen nhat doi duoc bao nhieu",
    ],
)
def test_everyday_questions_outside_the_lessons_are_declined(
    assistant: Assistant, question: str
) -> None:
    assert assistant.suggest(question) is None


def test_offtopic_examples_teach_the_assistant_where_its_knowledge_ends() -> None:
    content = load_content(PROJECT)
    assert len(content.offtopic) >= 50
    question = "tối nay trên VTV có phim gì hay"
    # Without offtopic.yaml, "phim" and "tối nay" are enough for a wrong, confident guess.
    assert Assistant(dataclasses.replace(content, offtopic=())).suggest(question) is not None
    assert Assistant(content).suggest(question) is None


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
