"""A printable catalogue of the content: learning paths, lessons with their quizzes, answers.

Volunteers print it to prepare a session or to help residents without a phone, so it shows
everything a learner can meet: every card, every quiz question with its right answer and the
explanations, every answer of the bank grouped by skill and topic, and the sources. The
catalogue is first built as a few neutral blocks (headings, paragraphs, lists), then written
as Markdown or HTML, so both formats always say the same thing.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

from bot.content import (
    TARGET_GROUPS,
    Answer,
    ChoiceQuestion,
    Content,
    LearningPath,
    Lesson,
    Quiz,
    Source,
)

__all__ = ["FORMATS", "catalog", "catalog_html", "catalog_markdown"]

FORMATS = ("md", "html")
TITLE = "Danh mục nội dung học"


# --- neutral blocks ---


@dataclass(frozen=True)
class _Span:
    text: str
    style: Literal["plain", "strong", "code", "link"] = "plain"


_Inline: TypeAlias = tuple[_Span, ...]


@dataclass(frozen=True)
class _Heading:
    level: int
    text: _Inline


@dataclass(frozen=True)
class _Para:
    text: _Inline


@dataclass(frozen=True)
class _List:
    items: tuple[_Inline, ...]
    ordered: bool = False


_Block: TypeAlias = _Heading | _Para | _List


def _plain(text: str) -> _Span:
    return _Span(text)


def _strong(text: str) -> _Span:
    return _Span(text, "strong")


def _code(text: str) -> _Span:
    return _Span(text, "code")


# --- what the catalogue says ---


def _blocks(content: Content) -> Iterator[_Block]:
    yield _Heading(1, (_plain(TITLE),))
    yield _Para(
        (
            _plain(
                f"{len(content.lessons)} bài học, {len(content.quizzes)} bài kiểm tra,"
                f" {len(content.answers)} câu hỏi đáp, {len(content.paths)} lộ trình học."
            ),
        )
    )
    if content.paths:
        yield _Heading(2, (_plain("Lộ trình học"),))
        for path in content.paths:
            yield from _path_blocks(content, path)
    yield _Heading(2, (_plain("Bài học"),))
    for number, lesson in enumerate(content.lessons.values(), 1):
        yield from _lesson_blocks(content, number, lesson)
    if content.answers:
        yield _Heading(2, (_plain("Hỏi đáp"),))
        yield from _answer_section(content)


def _path_blocks(content: Content, path: LearningPath) -> Iterator[_Block]:
    yield _Heading(3, (_plain(path.title),))
    audience = TARGET_GROUPS.get(path.group, path.group)
    if path.min_age is not None:
        audience += f", từ {path.min_age} tuổi trở lên"
    yield _Para((_plain(f"Dành cho: {audience}. Mã lộ trình: "), _code(path.id)))
    yield _Para((_strong("Bài bắt buộc"), _plain(" (học hết để nhận giấy chứng nhận):")))
    yield _List(tuple(_lesson_ref(content, ident) for ident in path.core), ordered=True)
    if path.optional:
        yield _Para((_strong("Bài tự chọn:"),))
        yield _List(tuple(_lesson_ref(content, ident) for ident in path.optional))


def _lesson_ref(content: Content, ident: str) -> _Inline:
    lesson = content.lessons.get(ident)
    if lesson is None:
        return (_code(ident),)
    return (_plain(f"{lesson.title} ("), _code(ident), _plain(")"))


def _lesson_blocks(content: Content, number: int, lesson: Lesson) -> Iterator[_Block]:
    yield _Heading(3, (_plain(f"Bài {number}. {lesson.title}"),))
    # Titles contain commas ("Cán bộ, công chức"): a semicolon keeps the items apart.
    topics = "; ".join(
        content.topics[topic].title if topic in content.topics else topic for topic in lesson.topics
    )
    groups = "; ".join(TARGET_GROUPS.get(group, group) for group in lesson.groups)
    yield _List(
        (
            (_plain("Mã bài: "), _code(lesson.id)),
            (_plain(f"Chủ đề: {topics}"),),
            (_plain(f"Dành cho: {groups}"),),
        )
    )
    yield _Heading(4, (_plain("Nội dung"),))
    yield _List(
        tuple(
            (_plain(card.text),) + ((_plain(f"\n(Hình: {card.image})"),) if card.image else ())
            for card in lesson.cards
        ),
        ordered=True,
    )
    quiz = content.quiz_for(lesson.id)
    if quiz is not None:
        yield from _quiz_blocks(quiz)
    yield _Heading(4, (_plain("Nguồn"),))
    yield _List(tuple(_source(source) for source in lesson.sources))


def _quiz_blocks(quiz: Quiz) -> Iterator[_Block]:
    count = len(quiz.questions)
    yield _Heading(4, (_plain(f"Câu hỏi kiểm tra (đạt khi đúng {quiz.pass_mark}/{count} câu)"),))
    for number, question in enumerate(quiz.questions, 1):
        yield _Para((_strong(f"Câu {number}. {question.text}"),))
        if isinstance(question, ChoiceQuestion):
            yield _List(
                tuple(
                    (
                        _strong(f"✔ {option.text} (đáp án đúng)")
                        if option.correct
                        else _plain(f"✘ {option.text}"),
                        _plain(f"\nGiải thích: {option.explanation}"),
                    )
                    for option in question.options
                )
            )
        else:
            accepted = "; ".join(question.accept)
            yield _List(
                (
                    (_plain("Người học tự gõ câu trả lời. "), _strong(f"Chấp nhận: {accepted}")),
                    (_plain(f"Giải thích: {question.explanation}"),),
                )
            )


def _source(source: Source) -> _Inline:
    if source.url is None:
        return (_plain(source.title),)
    return (_plain(f"{source.title}: "), _Span(source.url, "link"))


def _answer_section(content: Content) -> Iterator[_Block]:
    by_topic: dict[str, list[Answer]] = {}
    for answer in content.answers.values():
        by_topic.setdefault(answer.topic, []).append(answer)
    for skill in content.skills.values():
        topics = [t for t in content.topics.values() if t.skill == skill.id and t.id in by_topic]
        if not topics:
            continue
        yield _Heading(3, (_plain(skill.title),))
        for topic in topics:
            yield _Heading(4, (_plain(f"{topic.title} ("), _code(topic.id), _plain(")")))
            for answer in by_topic.pop(topic.id):
                yield from _answer_blocks(content, answer)
    # Content built in code may tag answers with topics it does not list: show them anyway.
    if by_topic:
        yield _Heading(3, (_plain("Chủ đề khác"),))
        for topic_id, answers in by_topic.items():
            yield _Heading(4, (_code(topic_id),))
            for answer in answers:
                yield from _answer_blocks(content, answer)


def _answer_blocks(content: Content, answer: Answer) -> Iterator[_Block]:
    yield _Para((_strong(f"Hỏi: {answer.question}"), _plain(" ("), _code(answer.id), _plain(")")))
    yield _Para((_plain(f"Đáp: {answer.answer}"),))
    details: list[_Inline] = []
    if answer.lesson is not None:
        details.append((_plain("Bài liên quan: "), *_lesson_ref(content, answer.lesson)))
    details.extend((_plain("Nguồn: "), *_source(source)) for source in answer.sources)
    yield _List(tuple(details))


# --- Markdown ---


def catalog_markdown(content: Content) -> str:
    """Return the catalogue as Markdown (CommonMark)."""
    parts = [_md_block(block) for block in _blocks(content)]
    return "\n\n".join(parts) + "\n"


def _md_block(block: _Block) -> str:
    if isinstance(block, _Heading):
        return "#" * block.level + " " + _md_inline(block.text, 0)
    if isinstance(block, _Para):
        return _md_inline(block.text, 0)
    lines = []
    for number, item in enumerate(block.items, 1):
        marker = f"{number}. " if block.ordered else "- "
        lines.append(marker + _md_inline(item, len(marker)))
    return "\n".join(lines)


def _md_inline(spans: _Inline, indent: int) -> str:
    text = "".join(_md_span(span) for span in spans)
    # A line break inside a paragraph or list item: two trailing spaces, then the item's indent.
    return text.replace("\n", "  \n" + " " * indent)


_MD_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>#|"})


def _md_span(span: _Span) -> str:
    if span.style == "code":
        return f"`{span.text.replace('`', '')}`"
    if span.style == "link" and not any(ch in span.text for ch in " <>"):
        return f"<{span.text}>"  # an autolink prints the address itself, which paper needs
    first, *rest = span.text.split("\n")
    # Leading spaces of a continuation line would add to the item's indent and make code.
    text = "\n".join(line.translate(_MD_SPECIAL) for line in [first, *map(str.lstrip, rest)])
    return f"**{text}**" if span.style == "strong" else text


# --- HTML ---

_STYLE = """
body { font-family: "Noto Sans", Arial, sans-serif; font-size: 12pt; line-height: 1.45;
       max-width: 48em; margin: 1.5em auto; padding: 0 1em; color: #111; }
h1 { font-size: 1.6em; } h2 { font-size: 1.35em; border-bottom: 2px solid #333; }
h3 { font-size: 1.15em; margin-top: 1.6em; } h4 { font-size: 1em; margin-bottom: 0.3em; }
code { font-size: 0.85em; color: #555; }
li { margin: 0.2em 0; }
a { color: inherit; }
@media print {
  h2 { break-before: page; } h3, h4 { break-after: avoid; } li { break-inside: avoid; }
}
""".strip()


def catalog_html(content: Content) -> str:
    """Return the catalogue as one self-contained HTML page, ready to print."""
    body = "\n".join(_html_block(block) for block in _blocks(content))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(TITLE)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _html_block(block: _Block) -> str:
    if isinstance(block, _Heading):
        return f"<h{block.level}>{_html_inline(block.text)}</h{block.level}>"
    if isinstance(block, _Para):
        return f"<p>{_html_inline(block.text)}</p>"
    tag = "ol" if block.ordered else "ul"
    items = "\n".join(f"<li>{_html_inline(item)}</li>" for item in block.items)
    return f"<{tag}>\n{items}\n</{tag}>"


def _html_inline(spans: Iterable[_Span]) -> str:
    return "".join(_html_span(span) for span in spans)


def _html_span(span: _Span) -> str:
    text = "<br>\n".join(html.escape(line) for line in span.text.split("\n"))
    if span.style == "strong":
        return f"<strong>{text}</strong>"
    if span.style == "code":
        return f"<code>{text}</code>"
    if span.style == "link":
        return f'<a href="{html.escape(span.text, quote=True)}">{text}</a>'
    return text


# --- entry point ---

_RENDERERS = {"md": catalog_markdown, "html": catalog_html}


def catalog(content: Content, fmt: str = "md") -> str:
    """Return the catalogue in `fmt` ("md" or "html"); raise ValueError for another format."""
    try:
        render = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown catalogue format {fmt!r}; use one of {FORMATS}") from None
    return render(content)
