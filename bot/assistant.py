"""Free-text questions -> the best answer from the question bank, or an honest "not sure".

Residents type without diacritics, in abbreviations, with typos, or in long spoken sentences.
Every wording in the bank (canonical questions, paraphrases, lesson and topic titles) is
normalised once at start-up (`bot.textnorm.normalise`) and the question is normalised the
same way, so the two meet in one form. Two parts decide together:

- the topic classifier (`bot.topic_classifier`) says which topic the question is about, or
  that it is about none of them (it learnt `offtopic.yaml`'s examples as "no topic");
- the lexical matcher scores each wording: fuzzy similarity (rapidfuzz) of the question's
  content words, which forgives typos and word order, and how much of the question's rare,
  informative words (by inverse document frequency over the bank) the wording covers, so
  "passcode" or "deepfake" outweigh "cho tôi hỏi". It picks the answer within the topic, and
  the topic must also reach `GATE` on it: a classifier guess that no wording supports is a
  guess, not an answer. When "no topic" comes close behind the best topic
  (`NO_TOPIC_MARGIN`), the question is as likely off-topic as not, so it is not answered.

Otherwise the assistant says it is not sure and offers the nearest topics.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from rapidfuzz import fuzz, process

from bot.content import Content
from bot.engine.flow import Suggestion
from bot.textnorm import normalise
from bot.topic_classifier import NO_TOPIC, TopicClassifier, training_set

# Lexical confidence (0-100) the classifier's topic must reach to be answered.
GATE = 35.0
# "No topic" this close behind the best topic (as a share of its probability): not sure.
NO_TOPIC_MARGIN = 0.8
# Without a classifier (content without an answer bank), the lexical confidence needed alone.
THRESHOLD = 52.0
# How much the topic's whole text (answers, lesson cards) counts against the single best wording.
TOPIC_WEIGHT = 0.35
AGREEMENT_DEPTH = 3
AGREEMENT_DECAY = 0.3

# Words that carry no topic: politeness, pronouns, question words, fillers of spoken Vietnamese.
STOPWORDS = frozenset(
    (
        "a",
        "ah",
        "ak",
        "oi",
        "ba",
        "bac",
        "be",
        "cac",
        "cam",
        "chau",
        "chi",
        "chu",
        "cho",
        "co",
        "con",
        "cua",
        "cu",
        "da",
        "day",
        "de",
        "den",
        "di",
        "do",
        "duoc",
        "em",
        "gi",
        "giup",
        "ha",
        "hay",
        "hoi",
        "huong",
        "khi",
        "khong",
        "la",
        "lai",
        "lam",
        "len",
        "luc",
        "may",
        "minh",
        "mot",
        "muon",
        "nao",
        "ne",
        "nay",
        "neu",
        "nguoi",
        "nhe",
        "nhi",
        "nho",
        "nhu",
        "nua",
        "o",
        "ong",
        "phai",
        "qua",
        "ra",
        "rang",
        "roi",
        "sao",
        "se",
        "thi",
        "thoi",
        "thu",
        "toi",
        "tren",
        "trong",
        "tu",
        "va",
        "vay",
        "vao",
        "ve",
        "vi",
        "voi",
        "vui",
        "xin",
        "y",
        "u",
        "ua",
        "uh",
    )
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One answer (or lesson) the assistant can give, with every wording that leads to it."""

    id: str
    topic: str
    answer: str
    lesson_id: str | None


@dataclass(frozen=True, slots=True)
class Match:
    """A scored candidate: the entry and how confident the assistant is (0-100)."""

    entry: Entry
    score: float


def _content_words(text: str) -> list[str]:
    return [w for w in text.split() if w not in STOPWORDS]


def _prepare(text: str) -> str:
    """The normalised text without filler words (all of it, if nothing else is left)."""
    normalised = normalise(text)
    return " ".join(_content_words(normalised)) or normalised


class _TopicIndex:
    """BM25 over each topic's whole text: wordings, answers, lesson titles and cards.

    Long spoken questions rarely match one wording, but their rare words ("khuyết tật",
    "youtube") usually appear somewhere in what the topic teaches.
    """

    K1 = 1.2
    B = 0.75

    def __init__(self, content: Content) -> None:
        texts: defaultdict[str, list[str]] = defaultdict(list)
        for answer in getattr(content, "answers", {}).values():
            texts[answer.topic] += [answer.question, *answer.paraphrases, answer.answer]
        for lesson in content.lessons.values():
            texts[lesson.topics[0]] += [lesson.title, *(card.text for card in lesson.cards)]
        for topic in content.topics.values():
            texts[topic.id].append(topic.title)
        self._counts = {
            topic: Counter(_content_words(normalise(" ".join(parts))))
            for topic, parts in texts.items()
        }
        self._lengths = {topic: sum(c.values()) for topic, c in self._counts.items()}
        self._average = sum(self._lengths.values()) / max(len(self._lengths), 1)
        documents = Counter(word for counts in self._counts.values() for word in counts)
        total = len(self._counts)
        self._idf = {
            word: math.log(1 + (total - n + 0.5) / (n + 0.5)) for word, n in documents.items()
        }
        self.vocabulary = frozenset(documents)

    def relevance(self, words: list[str]) -> dict[str, float]:
        """Each topic's BM25 score as a share of the best possible for these words (0-1)."""
        ceiling = sum(self._idf.get(w, 0.0) for w in words) * (self.K1 + 1)
        if ceiling <= 0:
            return {}
        shares: dict[str, float] = {}
        for topic, counts in self._counts.items():
            norm = self.K1 * (1 - self.B + self.B * self._lengths[topic] / self._average)
            score = 0.0
            for word in words:
                tf = counts.get(word, 0)
                if tf:
                    score += self._idf.get(word, 0.0) * tf * (self.K1 + 1) / (tf + norm)
            shares[topic] = score / ceiling
        return shares


class Assistant:
    """Answers residents' questions from the question-and-answer bank and the lessons."""

    def __init__(self, content: Content, threshold: float = THRESHOLD, gate: float = GATE) -> None:
        self._threshold = threshold
        self._gate = gate
        self._topics = {topic.id: topic.title for topic in content.topics.values()}
        entries: list[Entry] = []
        wordings: list[tuple[int, str]] = []
        for answer in getattr(content, "answers", {}).values():
            entries.append(Entry(answer.id, answer.topic, answer.answer, answer.lesson))
            for text in (answer.question, *answer.paraphrases):
                wordings.append((len(entries) - 1, text))
        for lesson in content.lessons.values():
            entries.append(Entry(f"lesson:{lesson.id}", lesson.topics[0], "", lesson.id))
            wordings.append((len(entries) - 1, lesson.title))
        self._entries = entries
        self._owner = [owner for owner, _ in wordings]
        normalised = [normalise(text) for _, text in wordings]
        self._texts = [" ".join(_content_words(text)) or text for text in normalised]
        self._token_sets = [frozenset(text.split()) for text in self._texts]
        self._idf = self._inverse_document_frequency(self._token_sets)
        self._max_idf = max(self._idf.values(), default=1.0)
        self._text_weights = [{t: self._weight(t) for t in tokens} for tokens in self._token_sets]
        self._text_totals = [sum(w.values()) or 1.0 for w in self._text_weights]
        self._wordings_of_topic: defaultdict[str, list[int]] = defaultdict(list)
        for index, owner in enumerate(self._owner):
            self._wordings_of_topic[entries[owner].topic].append(index)
        self._postings: defaultdict[str, list[int]] = defaultdict(list)
        for index, tokens in enumerate(self._token_sets):
            for token in tokens:
                self._postings[token].append(index)
        self._topic_index = _TopicIndex(content)
        self._vocabulary = sorted(set(self._idf) | self._topic_index.vocabulary)
        self._known = frozenset(self._vocabulary)
        self._best_answer_of_topic = self._first_answer_per_topic()
        self._entries_per_topic = Counter(entry.topic for entry in entries)
        # The classifier learns from the answer bank; content without one (a small tree of
        # a few lessons) has too little to learn from and is matched lexically alone.
        pairs = training_set(content)
        self._classifier = (
            TopicClassifier([_prepare(text) for text, _ in pairs], [label for _, label in pairs])
            if len({answer.topic for answer in content.answers.values()}) >= 2
            else None
        )
        # A not-sure answer asks for the nearest topics right after `suggest`: classify once.
        # Small on purpose: it serves that re-ask, not repeated questions (nor benchmarks).
        self._probabilities = functools.lru_cache(maxsize=4)(self._classify)

    @staticmethod
    def _inverse_document_frequency(token_sets: Iterable[frozenset[str]]) -> dict[str, float]:
        sets = list(token_sets)
        counts: Counter[str] = Counter(token for tokens in sets for token in tokens)
        total = max(len(sets), 1)
        return {token: math.log(1 + total / count) for token, count in counts.items()}

    def _first_answer_per_topic(self) -> dict[str, Entry]:
        best: dict[str, Entry] = {}
        for entry in self._entries:
            if entry.answer and entry.topic not in best:
                best[entry.topic] = entry
        return best

    def rank(self, question: str, limit: int = 5, *, topic: str | None = None) -> list[Match]:
        """The best entries for the question, most confident first, one per entry.

        With `topic`, only that topic's wordings are scored (all of them).
        """
        words = [self._spell(word) for word in _content_words(normalise(question))]
        if not words or not self._texts:
            return []
        query = " ".join(words)
        weights = {word: self._weight(word) for word in words}
        candidates = (
            self._wordings_of_topic.get(topic, [])
            if topic is not None
            else self._candidates(query, weights, max(60, limit * 8))
        )
        relevance = self._topic_index.relevance(words)
        best: dict[int, float] = {}
        for index in candidates:
            owner = self._owner[index]
            topic_share = relevance.get(self._entries[owner].topic, 0.0)
            score = (1 - TOPIC_WEIGHT) * self._score(query, weights, index) + (
                TOPIC_WEIGHT * 100.0 * topic_share
            )
            if score > best.get(owner, -1.0):
                best[owner] = score
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:limit]
        return [Match(self._entries[owner], score) for owner, score in ranked]

    def _candidates(self, query: str, weights: dict[str, float], limit: int) -> list[int]:
        """Wordings sharing the question's rarest words (an inverted index, not a full scan)."""
        overlap: defaultdict[int, float] = defaultdict(float)
        for word, weight in weights.items():
            for index in self._postings.get(word, ()):
                overlap[index] += weight
        if not overlap:
            # No word in common: fall back to fuzzy similarity over every wording.
            found = process.extract(query, self._texts, scorer=fuzz.token_set_ratio, limit=limit)
            return [index for _, _, index in found]
        return sorted(overlap, key=overlap.__getitem__, reverse=True)[:limit]

    def _spell(self, word: str) -> str:
        """A word the bank never uses is probably a typo of one it does: take the nearest."""
        if word in self._known or len(word) < 4 or word.isdigit():
            return word
        found = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=80)
        return str(found[0]) if found else word

    def _weight(self, word: str) -> float:
        """Rare words tell the topic; unknown words (typos, off-topic) weigh like rare ones."""
        return self._idf.get(word, self._max_idf)

    def _score(self, query: str, weights: dict[str, float], index: int) -> float:
        """Blend of fuzzy similarity and weighted word coverage in both directions (0-100)."""
        tokens = self._token_sets[index]
        query_total = sum(weights.values()) or 1.0
        query_covered = sum(w for word, w in weights.items() if word in tokens) / query_total
        text_weights = self._text_weights[index]
        text_total = self._text_totals[index]
        text_covered = sum(text_weights.get(word, 0.0) for word in weights) / text_total
        similarity = fuzz.token_sort_ratio(query, self._texts[index]) / 100.0
        return 100.0 * (0.45 * query_covered + 0.35 * text_covered + 0.20 * similarity)

    def topics(self, question: str) -> list[tuple[str, float, Match]]:
        """Topics by lexical confidence, each with its best match.

        A topic's confidence blends its three best entries (weights 1, 0.3, 0.09): a question
        several entries of one topic agree on is surer than one lucky wording.
        """
        per_topic: defaultdict[str, list[Match]] = defaultdict(list)
        for match in self.rank(question, limit=30):
            per_topic[match.entry.topic].append(match)
        scored = []
        for topic, matches in per_topic.items():
            # Agreement can only come from entries the topic has.
            depth = min(AGREEMENT_DEPTH, self._entries_per_topic[topic])
            top = matches[:depth]
            weights = [AGREEMENT_DECAY**i for i in range(depth)]
            confidence = sum(w * m.score for w, m in zip(weights, top, strict=False)) / sum(weights)
            scored.append((topic, confidence, matches[0]))
        return sorted(scored, key=lambda item: item[1], reverse=True)

    def _classify(self, prepared: str) -> Mapping[str, float]:
        """The classifier's probabilities for a prepared question (read-only)."""
        assert self._classifier is not None
        return MappingProxyType(self._classifier.probabilities(prepared))

    def decide(self, question: str) -> tuple[str, float] | None:
        """The question's topic and the confidence in it (0-100), or None: not sure."""
        decided = self._decide(question)
        return None if decided is None else (decided[0], decided[1])

    def _decide(self, question: str) -> tuple[str, float, list[Match] | None] | None:
        """`decide`, with the topic's ranked entries when they were needed to decide."""
        if self._classifier is None:
            lexical = self.topics(question)
            if not lexical or lexical[0][1] < self._threshold:
                return None
            return lexical[0][0], lexical[0][1], None
        if not _content_words(normalise(question)):
            return None
        probabilities = self._probabilities(_prepare(question))
        topic = max(probabilities, key=probabilities.__getitem__)
        if topic == NO_TOPIC:
            return None
        if probabilities.get(NO_TOPIC, 0.0) >= NO_TOPIC_MARGIN * probabilities[topic]:
            return None
        # Ranked once: the gate reads the best three, the answer is the best with one.
        matches = self.rank(question, limit=len(self._entries), topic=topic)
        if self._topic_confidence(matches, topic) < self._gate:
            return None
        return topic, 100.0 * probabilities[topic], matches

    def _topic_confidence(self, matches: list[Match], topic: str) -> float:
        """How well the topic's own wordings match (its best three, weights 1, 0.3, 0.09)."""
        depth = min(AGREEMENT_DEPTH, self._entries_per_topic[topic])
        top = matches[:depth]
        if not top:
            return 0.0
        weights = [AGREEMENT_DECAY**i for i in range(depth)]
        return sum(w * m.score for w, m in zip(weights, top, strict=False)) / sum(weights)

    def suggest(self, question: str) -> Suggestion | None:
        """The best answer, or None when the assistant is not confident enough."""
        decided = self._decide(question)
        if decided is None:
            return None
        topic, confidence, matches = decided
        if matches is None:
            matches = self.rank(question, limit=len(self._entries), topic=topic)
        found = self._answer_among(matches, topic)
        if found is None:
            return None
        return Suggestion(found.topic, found.answer, found.lesson_id, confidence, found.id)

    def closest_topics(self, question: str, limit: int = 3) -> list[str]:
        """Topic ids nearest to the question, best first."""
        if self._classifier is None or not normalise(question):
            return [topic for topic, _, _ in self.topics(question)[:limit]]
        probabilities = self._probabilities(_prepare(question))
        topics = [topic for topic in probabilities if topic != NO_TOPIC]
        return sorted(topics, key=probabilities.__getitem__, reverse=True)[:limit]

    def answer_in_topic(self, question: str, topic: str) -> Suggestion | None:
        """The best answer within one topic (after the learner picked a topic from the list)."""
        return self._answer_among(self.rank(question, limit=len(self._entries), topic=topic), topic)

    def _answer_among(self, matches: list[Match], topic: str) -> Suggestion | None:
        """The best answer among a topic's ranked entries, else its first answer or lesson."""
        lesson: Match | None = None
        for match in matches:
            entry = match.entry
            if entry.answer:
                return Suggestion(entry.topic, entry.answer, entry.lesson_id, match.score, entry.id)
            lesson = lesson or match
        fallback = self._best_answer_of_topic.get(topic)
        if fallback is not None:
            return Suggestion(topic, fallback.answer, fallback.lesson_id, 0.0, fallback.id)
        if lesson is not None:
            # No answer in the bank for this topic: offer the lesson that matched.
            entry = lesson.entry
            return Suggestion(topic, "", entry.lesson_id, lesson.score, entry.id)
        return None

    def topic_title(self, topic: str) -> str:
        """The Vietnamese title of a topic."""
        return self._topics.get(topic, topic)
