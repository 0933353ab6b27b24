"""The question-and-answer bank: `answers/*.yaml`, each file a list of entries.

An entry is one question residents ask, its canonical wording, other wordings (paraphrases,
the assistant's matching data), a short answer, the related lesson and the sources. The
models validate one entry at a time; the checks here span entries and files and run on the
raw YAML data, like the lesson checks in `bot.content`, so one broken field does not hide or
fake problems elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, Strict

from bot.contentfields import (
    ContentFile,
    ContentModel,
    FirstPlaces,
    Id,
    Problem,
    Source,
    Text,
    TopicId,
    did_you_mean,
    limited_text,
)
from bot.textnorm import fold
from bot.yamlsource import Loc

__all__ = [
    "ANSWER_LIMIT",
    "ENTRIES",
    "MIN_ANSWERS_PER_TOPIC",
    "MIN_PARAPHRASES",
    "Answer",
    "AnswerFile",
    "check_answers",
    "check_coverage",
]

ANSWER_LIMIT = 600  # characters of an answer: about one chat message on a small phone
MIN_PARAPHRASES = 2
MIN_ANSWERS_PER_TOPIC = 4

# An answers file is a bare YAML list; the checker reads it as if it were `entries: [...]`,
# so locations, line numbers and messages work exactly as for lessons.
ENTRIES = "entries"


class Answer(ContentModel):
    """One entry of the answer bank: a question, its other wordings, the answer, its sources."""

    id: Id
    topic: TopicId
    question: Text
    paraphrases: tuple[Text, ...] = Field(min_length=MIN_PARAPHRASES)
    answer: Annotated[str, Strict(), limited_text(ANSWER_LIMIT)]
    lesson: Id | None = None  # the related lesson, offered after the answer
    sources: tuple[Source, ...] = Field(min_length=1)

    @property
    def wordings(self) -> tuple[str, ...]:
        """The canonical question followed by its paraphrases."""
        return (self.question, *self.paraphrases)


class AnswerFile(ContentModel):
    """The entries of one answers file, in the order they are written."""

    entries: tuple[Answer, ...]


def check_answers(files: Sequence[ContentFile], lesson_ids: Collection[str]) -> list[Problem]:
    """Return the problems that span entries: empty files, duplicate ids, lessons, wordings."""
    problems: list[Problem] = []
    ids = FirstPlaces()
    wordings = _Wordings()
    for file in files:
        entries = file.data.get(ENTRIES)
        if isinstance(entries, list) and not entries:
            problems.append(
                Problem(file.rel, 1, "the file has no entries; write one '- id: ...' per question")
            )
        for index, entry in _entries(file):
            ident = entry.get("id")
            if isinstance(ident, str) and (first := ids.claim(ident, file, (ENTRIES, index, "id"))):
                problems.append(
                    Problem(
                        file.rel,
                        file.line_of((ENTRIES, index, "id")),
                        f"answer id '{ident}' is already used by {first[0]}:{first[1]};"
                        " every entry needs its own id",
                    )
                )
            lesson = entry.get("lesson")
            if isinstance(lesson, str) and lesson not in lesson_ids:
                problems.append(
                    Problem(
                        file.rel,
                        file.line_of((ENTRIES, index, "lesson")),
                        f"'lesson' of entry {_label(entry, index)} is '{lesson}', but there is no"
                        f" lesson with that id{did_you_mean(lesson, lesson_ids)}",
                    )
                )
            problems.extend(wordings.add(file, index, entry))
    return problems


def check_coverage(
    topics_file: ContentFile, lessons: Sequence[ContentFile], answers: Sequence[ContentFile]
) -> list[Problem]:
    """Return a problem for each topic without a lesson or with too few answers."""
    lesson_count: dict[str, int] = {}
    for file in lessons:
        topics = file.data.get("topics")
        for topic in set(topics) if isinstance(topics, list) else ():
            if isinstance(topic, str):
                lesson_count[topic] = lesson_count.get(topic, 0) + 1
    answer_count: dict[str, int] = {}
    for file in answers:
        for _, entry in _entries(file):
            topic = entry.get("topic")
            if isinstance(topic, str):
                answer_count[topic] = answer_count.get(topic, 0) + 1
    problems = []
    topics = topics_file.data.get("topics")
    for index, topic in enumerate(topics if isinstance(topics, list) else []):
        ident = topic.get("id") if isinstance(topic, dict) else None
        if not isinstance(ident, str):
            continue
        line = topics_file.line_of(("topics", index))
        if not lesson_count.get(ident):
            problems.append(
                Problem(
                    topics_file.rel,
                    line,
                    f"topic '{ident}' has no lesson; tag at least one lesson with it"
                    f" (topics: [{ident}])",
                )
            )
        count = answer_count.get(ident, 0)
        if count < MIN_ANSWERS_PER_TOPIC:
            have = "no answers" if not count else f"only {count} answer{'s' if count > 1 else ''}"
            problems.append(
                Problem(
                    topics_file.rel,
                    line,
                    f"topic '{ident}' has {have} in answers/; it needs at least"
                    f" {MIN_ANSWERS_PER_TOPIC} (entries with 'topic: {ident}')",
                )
            )
    return problems


# --- wordings shared between topics ---


@dataclass(frozen=True)
class _Place:
    file: str
    line: int
    entry: str
    topic: str
    what: str  # "the question" or "paraphrase 2"


class _Wordings:
    """Folded wordings seen so far, to catch one wording used for two different topics.

    The assistant matches a learner's words against every wording; the same words leading
    to two topics would make it pick one at random. Within one topic, repeats are harmless.
    """

    def __init__(self) -> None:
        self._places: dict[str, list[_Place]] = {}

    def add(self, file: ContentFile, index: int, entry: Mapping[Hashable, object]) -> list[Problem]:
        """Record the entry's wordings; return a problem for each one another topic uses."""
        topic = entry.get("topic")
        if not isinstance(topic, str):
            return []  # the entry's own problem is reported; its topic cannot clash
        problems = []
        label = _label(entry, index)
        for loc, what, text in _wordings_of(entry, index):
            key = fold(text)
            if not key:
                continue
            place = _Place(file.rel, file.line_of(loc), label, topic, what)
            earlier = self._places.setdefault(key, [])
            clash = next((p for p in earlier if p.topic != topic), None)
            earlier.append(place)
            if clash is not None:
                problems.append(
                    Problem(
                        place.file,
                        place.line,
                        f"{what} of entry {label} ('{text}') is the same, ignoring accents and"
                        f" punctuation, as {clash.what} of entry {clash.entry}"
                        f" ({clash.file}:{clash.line}), which is about topic '{clash.topic}',"
                        f" not '{topic}'; the assistant could not tell them apart, so reword or"
                        " drop one",
                    )
                )
        return problems


def _wordings_of(entry: Mapping[Hashable, object], index: int) -> Iterator[tuple[Loc, str, str]]:
    question = entry.get("question")
    if isinstance(question, str):
        yield (ENTRIES, index, "question"), "the question", question
    paraphrases = entry.get("paraphrases")
    for number, text in enumerate(paraphrases if isinstance(paraphrases, list) else []):
        if isinstance(text, str):
            yield (ENTRIES, index, "paraphrases", number), f"paraphrase {number + 1}", text


def _entries(file: ContentFile) -> Iterator[tuple[int, Mapping[Hashable, object]]]:
    entries = file.data.get(ENTRIES)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict):
            yield index, entry


def _label(entry: Mapping[Hashable, object], index: int) -> str:
    ident = entry.get("id")
    return ident if isinstance(ident, str) else str(index + 1)
