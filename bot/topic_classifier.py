"""Which topic is a question about — or none of them? A linear text classifier.

Lexical matching alone finds the right wording for short questions but loses long spoken ones
("Bác nghe cán bộ thôn nói mãi...") and cannot tell a question about the weather from one
about VNeID that happens to share words. This classifier learns, at start-up, from every text
the content has for a topic (the bank's questions and paraphrases, the answers, the lesson
titles and cards) and from `offtopic.yaml`'s examples, labelled as no topic:

- features: TF-IDF of character n-grams (2-5, inside word boundaries), which forgive typos,
  missing letters and dialect spellings, plus word unigrams and bigrams;
- model: multinomial logistic regression (scikit-learn, SAGA solver, fixed seed).

Texts are normalised with `bot.textnorm.normalise` before both training and prediction, so
diacritics, teen-code and abbreviations are gone by the time the model sees them. Training
takes well under a second for the sample bank; a trained model is kept per distinct training
set, so a process that loads the same content twice trains once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from bot.content import Content

__all__ = ["NO_TOPIC", "TopicClassifier", "training_set"]

NO_TOPIC = ""  # the label of offtopic.yaml's examples
_SEED = 0


@dataclass(frozen=True, slots=True)
class _Model:
    features: FeatureUnion
    model: LogisticRegression
    labels: tuple[str, ...]


def training_set(content: Content) -> list[tuple[str, str]]:
    """Every (text, topic) pair the content offers; off-topic examples get `NO_TOPIC`."""
    pairs: list[tuple[str, str]] = []
    for answer in content.answers.values():
        pairs += [(text, answer.topic) for text in (*answer.wordings, answer.answer)]
    for lesson in content.lessons.values():
        topic = lesson.topics[0]
        pairs += [(lesson.title, topic), *((card.text, topic) for card in lesson.cards)]
    pairs += [(topic.title, topic.id) for topic in content.topics.values()]
    pairs += [(text, NO_TOPIC) for text in content.offtopic]
    return pairs


class TopicClassifier:
    """Probabilities of each topic (and of no topic) for one normalised question."""

    _cache: ClassVar[dict[str, _Model]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        """Train on normalised `texts` with their topic `labels` (or reuse an identical model)."""
        if len(set(labels)) < 2:
            raise ValueError("the classifier needs texts of at least two topics")
        digest = hashlib.sha256(repr((list(texts), list(labels))).encode()).hexdigest()
        with self._lock:
            model = self._cache.get(digest)
            if model is None:
                model = self._cache[digest] = self._train(texts, labels)
        self._model = model

    @staticmethod
    def _train(texts: Sequence[str], labels: Sequence[str]) -> _Model:
        features = FeatureUnion(
            [
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                ),
                (
                    "words",
                    TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
                ),
            ]
        )
        matrix = features.fit_transform(list(texts))
        model = LogisticRegression(C=1.0, solver="saga", tol=1e-3, max_iter=3000)
        model.set_params(random_state=_SEED)
        model.fit(matrix, list(labels))
        return _Model(features, model, tuple(str(label) for label in model.classes_))

    @property
    def labels(self) -> tuple[str, ...]:
        """The topics the classifier knows (`NO_TOPIC` among them when trained with it)."""
        return self._model.labels

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability for one normalised question (they sum to 1)."""
        row = self._model.model.predict_proba(self._model.features.transform([text]))[0]
        return {label: float(p) for label, p in zip(self._model.labels, row, strict=True)}
