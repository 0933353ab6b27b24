"""Free-text questions -> the lesson that answers them, or an honest "not sure".

A first, small assistant: it matches the learner's folded words against lesson titles and
the titles of their topics with rapidfuzz. The question-and-answer bank replaces the index
later without changing the interface the engine uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.content import Content
from bot.engine.flow import Suggestion
from bot.textnorm import fold

THRESHOLD = 70.0


@dataclass(frozen=True, slots=True)
class _Entry:
    lesson_id: str
    topic: str
    text: str


class LessonIndexAssistant:
    """Matches questions to lessons by their titles and topic titles."""

    def __init__(self, content: Content, threshold: float = THRESHOLD) -> None:
        self._threshold = threshold
        entries: list[_Entry] = []
        for lesson in content.lessons.values():
            entries.append(_Entry(lesson.id, lesson.topics[0], fold(lesson.title)))
            for topic_id in lesson.topics:
                topic = content.topics.get(topic_id)
                if topic is not None:
                    entries.append(_Entry(lesson.id, topic_id, fold(topic.title)))
        self._entries = entries
        self._texts = [entry.text for entry in entries]

    def suggest(self, question: str) -> Suggestion | None:
        """The lesson nearest the question, if the match is confident enough."""
        query = fold(question)
        if len(query) < 3 or not self._texts:
            return None
        found = process.extractOne(query, self._texts, scorer=fuzz.token_set_ratio)
        if found is None or found[1] < self._threshold:
            return None
        entry = self._entries[found[2]]
        return Suggestion(entry.topic, "", entry.lesson_id, float(found[1]))

    def closest_topics(self, question: str, limit: int = 3) -> list[str]:
        """Topic ids of the nearest entries, best first, without repeats."""
        query = fold(question)
        ranked = process.extract(query, self._texts, scorer=fuzz.token_set_ratio, limit=limit * 3)
        topics: list[str] = []
        for _, _, index in ranked:
            topic = self._entries[index].topic
            if topic not in topics:
                topics.append(topic)
        return topics[:limit]
