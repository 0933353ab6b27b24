"""Field types, validators and records shared by every kind of content file.

Lessons and quizzes (`bot.content`), the answer bank (`bot.answers`) and the learning paths
(`bot.learning_paths`) validate the same kinds of values: ids, topic ids, target groups,
limited texts, sources. They live here so those modules can build on them without importing
each other in a circle.

A custom error's message is the rest of a sentence whose subject the checker supplies from the
error's location: "card 3" + " is 412 characters long; the limit is 350".
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Strict, ValidationInfo
from pydantic_core import PydanticCustomError

from bot.yamlsource import Loc, YamlDoc

__all__ = [
    "BUTTON_LIMIT",
    "CARD_LIMIT",
    "TARGET_GROUPS",
    "ButtonText",
    "ContentFile",
    "ContentModel",
    "FirstPlaces",
    "GroupId",
    "Id",
    "ImageRef",
    "LongText",
    "Problem",
    "Rules",
    "Source",
    "Text",
    "TopicId",
    "Url",
    "did_you_mean",
    "fail",
    "limited_text",
]

TARGET_GROUPS: dict[str, str] = {
    "adult": "Người dân",
    "pupil": "Học sinh",
    "official": "Cán bộ, công chức",
    "worker": "Người lao động (doanh nghiệp, hợp tác xã)",
}

CARD_LIMIT = 350  # characters of a card, a question or an explanation
BUTTON_LIMIT = 80  # characters of an option, which is shown on a button

_ID = re.compile(r"[a-z0-9-]+")


@dataclass(frozen=True)
class Rules:
    """What validators need beyond the file itself; absent when models are built in code."""

    root: Path
    topic_ids: frozenset[str] | None  # None: topics.yaml unreadable, so skip topic checks


def _rules(info: ValidationInfo) -> Rules | None:
    return info.context if isinstance(info.context, Rules) else None


def fail(kind: str, message: str, **ctx: object) -> PydanticCustomError:
    """Build a validation error whose message continues a sentence about the field."""
    return PydanticCustomError(kind, message, ctx)


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return " (did you mean 'x'?)" for the closest choice, or "" when none is close."""
    matches = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def limited_text(limit: int | None) -> AfterValidator:
    """Validate a non-empty text of at most `limit` letters (None: no limit)."""

    def clean(value: str) -> str:
        # NFC so a length counts letters, whichever way the editor stored the diacritics;
        # strip because block scalars (`text: |`) end with a newline.
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            raise fail("empty_text", "is empty")
        if limit is not None and len(value) > limit:
            raise fail(
                "text_too_long",
                "is {length} characters long; the limit is {limit}",
                length=len(value),
                limit=limit,
            )
        return value

    return AfterValidator(clean)


def _check_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise fail(
            "bad_id",
            "is '{value}'; an id may contain only lowercase letters a-z, digits and '-'",
            value=value,
        )
    return value


def _check_topic(value: str, info: ValidationInfo) -> str:
    rules = _rules(info)
    if rules is not None and rules.topic_ids is not None and value not in rules.topic_ids:
        raise fail(
            "unknown_topic",
            "is '{value}', which is not a topic id in topics.yaml{hint}",
            value=value,
            hint=did_you_mean(value, rules.topic_ids),
        )
    return value


def _check_group(value: str) -> str:
    if value not in TARGET_GROUPS:
        raise fail(
            "unknown_group",
            "is '{value}', which is not a target group{hint}; use one of: {groups}",
            value=value,
            hint=did_you_mean(value, TARGET_GROUPS),
            groups=", ".join(f"{key} ({label})" for key, label in TARGET_GROUPS.items()),
        )
    return value


def _check_image(value: str, info: ValidationInfo) -> str:
    if value.startswith("https://"):
        return value
    if "://" in value or value.startswith("/") or ".." in Path(value).parts:
        raise fail(
            "bad_image",
            "is '{value}'; a picture must be an https:// address or a path inside the content"
            " folder, like images/vneid.png",
            value=value,
        )
    rules = _rules(info)
    if rules is not None and not (rules.root / value).is_file():
        raise fail(
            "image_not_found",
            "is '{value}', but there is no such file (paths are relative to the content folder)",
            value=value,
        )
    return value


def _check_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise fail(
            "bad_url", "is '{value}'; a link must start with https:// or http://", value=value
        )
    return value


Text = Annotated[str, Strict(), limited_text(None)]
LongText = Annotated[str, Strict(), limited_text(CARD_LIMIT)]
ButtonText = Annotated[str, Strict(), limited_text(BUTTON_LIMIT)]
Id = Annotated[str, Strict(), AfterValidator(_check_id)]
TopicId = Annotated[str, Strict(), AfterValidator(_check_topic)]
GroupId = Annotated[str, Strict(), AfterValidator(_check_group)]
ImageRef = Annotated[str, Strict(), AfterValidator(_check_image)]
Url = Annotated[str, Strict(), AfterValidator(_check_url)]


class ContentModel(BaseModel):
    """Base of every content model: immutable, and an unknown field is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(ContentModel):
    """Where a lesson's or an answer's facts come from."""

    title: Text
    url: Url | None = None


@dataclass(frozen=True)
class Problem:
    """One thing an author must fix; `line` is 1-based, 0 when it concerns a whole folder."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        """Format as `file:line: message`, which editors and terminals can jump to."""
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ContentFile:
    """One YAML file as read: its display path, parsed document and validated model."""

    rel: str
    doc: YamlDoc
    model: BaseModel | None = None

    @property
    def data(self) -> dict[Hashable, object]:
        """The file's top-level fields (the reader only keeps files with fields on top)."""
        assert isinstance(self.doc.data, dict)
        return self.doc.data

    def line_of(self, loc: Loc) -> int:
        """Return the line of the key or item at `loc` (or of its nearest written parent)."""
        return self.doc.line_of(loc)


class FirstPlaces:
    """Where each key (an id, a wording) was first written, to name that place later."""

    def __init__(self) -> None:
        self._seen: dict[Hashable, tuple[str, int]] = {}

    def claim(self, key: Hashable, file: ContentFile, loc: Loc) -> tuple[str, int] | None:
        """Record where `key` is first written; return that place if it was already taken."""
        if key in self._seen:
            return self._seen[key]
        self._seen[key] = (file.rel, file.line_of(loc))
        return None
