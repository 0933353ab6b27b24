"""Load and check the content teachers write in YAML into immutable typed models.

The content is `lessons/` and `quizzes/` (this module), the answer bank `answers/`
(`bot.answers`) and the learning paths `paths.yaml` (`bot.learning_paths`); the field types
they share are in `bot.contentfields`.

`check_content` reports every problem at once as `file:line: message`, in plain English for the
teachers who write the files; `load_content` returns the models or raises ContentError with the
same problems. Structure and types are validated by pydantic; the line of each problem comes
from `bot.yamlsource`, which remembers where every key and list item was written. Checks that
span files (duplicate ids, a quiz's lesson, a path's lessons) run on the raw data, so one
broken field does not hide or fake problems elsewhere.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

import bot
from bot.answers import ENTRIES, Answer, AnswerFile, check_answers, check_coverage
from bot.contentfields import (
    TARGET_GROUPS,
    ButtonText,
    ContentFile,
    ContentModel,
    GroupId,
    Id,
    ImageRef,
    LongText,
    Problem,
    Rules,
    Source,
    Text,
    TopicId,
    did_you_mean,
    fail,
)
from bot.learning_paths import PATHS_FILE, LearningPath, PathsFile, check_paths, pick_path
from bot.offtopic import OFFTOPIC_FILE, OffTopicFile
from bot.yamlsource import Loc, YamlDoc, YamlSyntaxError, parse_yaml

__all__ = [
    "TARGET_GROUPS",
    "Answer",
    "Card",
    "ChoiceQuestion",
    "Content",
    "ContentError",
    "LearningPath",
    "Lesson",
    "Option",
    "Problem",
    "Question",
    "Quiz",
    "Skill",
    "Source",
    "TextQuestion",
    "Topic",
    "check_content",
    "load_content",
]

PROJECT_TOPICS = Path(bot.__file__).resolve().parent.parent / "topics.yaml"

MAX_CARDS = 8
MAX_QUESTIONS = 8

_CHOICE = "single-choice"  # union tags; never valid field names, so easy to drop from a loc
_TEXT = "free-text"


# --- models ---


class Card(ContentModel):
    """One screen of a lesson: a short text, optionally with a picture."""

    text: LongText
    image: ImageRef | None = None  # a path relative to the content folder, or an https URL


class Lesson(ContentModel):
    """A lesson of a few cards, tagged with topics and target groups."""

    id: Id
    title: Text
    topics: tuple[TopicId, ...] = Field(min_length=1)
    groups: tuple[GroupId, ...] = Field(min_length=1)
    order: StrictInt = 100
    cards: tuple[Card, ...] = Field(min_length=1, max_length=MAX_CARDS)
    sources: tuple[Source, ...] = Field(min_length=1)
    path: str = ""  # file relative to the content folder; set by the loader, not by authors


class Option(ContentModel):
    """One answer of a single-choice question, with the explanation shown after answering."""

    text: ButtonText
    correct: StrictBool = False
    explanation: LongText


class ChoiceQuestion(ContentModel):
    """A question answered by picking exactly one of 2-4 options."""

    id: Id
    text: LongText
    options: tuple[Option, ...] = Field(min_length=2, max_length=4)

    @field_validator("options")
    @classmethod
    def _exactly_one_correct(cls, options: tuple[Option, ...]) -> tuple[Option, ...]:
        correct = [str(number) for number, option in enumerate(options, 1) if option.correct]
        if not correct:
            raise fail("correct_count", "has no option marked 'correct: true'; mark exactly one")
        if len(correct) > 1:
            raise fail(
                "correct_count",
                "has {count} options marked 'correct: true' (options {which}); mark exactly one",
                count=len(correct),
                which=" and ".join(correct),
            )
        return options

    @property
    def correct_index(self) -> int:
        """Index (0-based) of the correct option."""
        return next(index for index, option in enumerate(self.options) if option.correct)


class TextQuestion(ContentModel):
    """A question answered by typing; the engine matches the answer tolerantly."""

    id: Id
    text: LongText
    accept: tuple[Text, ...] = Field(min_length=1)
    explanation: LongText


Question: TypeAlias = ChoiceQuestion | TextQuestion


def _question_kind(value: Any) -> str | None:
    """Pick the question model from the fields the author wrote (None: ambiguous or neither)."""
    if isinstance(value, ChoiceQuestion):
        return _CHOICE
    if isinstance(value, TextQuestion):
        return _TEXT
    if not isinstance(value, dict):
        return None
    if "options" in value:
        return None if "accept" in value else _CHOICE
    # An explanation without `accept` is a free-text question missing its answers: say that.
    return _TEXT if "accept" in value or "explanation" in value else None


_AnyQuestion = Annotated[
    Annotated[ChoiceQuestion, Tag(_CHOICE)] | Annotated[TextQuestion, Tag(_TEXT)],
    Discriminator(
        _question_kind,
        custom_error_type="question_kind",
        custom_error_message="needs either options or accept and explanation",
    ),
]


class Quiz(ContentModel):
    """The quiz of one lesson; passing needs at least `pass_mark` correct answers."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    lesson_id: Text = Field(alias="lesson")
    questions: tuple[_AnyQuestion, ...] = Field(min_length=1, max_length=MAX_QUESTIONS)
    # Declared after `questions` so its validator can see how many questions there are.
    pass_mark: StrictInt
    path: str = ""  # file relative to the content folder; set by the loader, not by authors

    @field_validator("pass_mark")
    @classmethod
    def _pass_mark_in_range(cls, value: int, info: ValidationInfo) -> int:
        questions = info.data.get("questions")
        if value < 1:
            raise fail("pass_mark_range", "is {value}; it must be at least 1", value=value)
        if questions is not None and value > len(questions):
            raise fail(
                "pass_mark_range",
                "is {value} but the quiz has only {count} question(s); it must be between 1"
                " and {count}",
                value=value,
                count=len(questions),
            )
        return value


class Skill(ContentModel):
    """One of the basic digital skills that topics are grouped under."""

    id: Text
    title: Text


class Topic(ContentModel):
    """A stable topic id that lessons and the assistant's answers are tagged with."""

    id: Text
    skill: Text
    title: Text


class _TopicsFile(ContentModel):
    skills: tuple[Skill, ...] = Field(min_length=1)
    topics: tuple[Topic, ...] = Field(min_length=1)


def _no_answers() -> Mapping[str, Answer]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Content:
    """All lessons (in teaching order), quizzes by lesson id, topics, skills, answers, paths."""

    lessons: Mapping[str, Lesson]
    quizzes: Mapping[str, Quiz]
    topics: Mapping[str, Topic]
    skills: Mapping[str, Skill]
    # Defaults, because older content trees (and content built in code) have neither.
    answers: Mapping[str, Answer] = field(default_factory=_no_answers)  # by id, in file order
    paths: tuple[LearningPath, ...] = ()
    offtopic: tuple[str, ...] = ()  # example questions outside every topic (offtopic.yaml)

    def path_for(self, group: str | None, age: int | None) -> LearningPath | None:
        """Return the learner's path: a matching min_age path beats the group's plain one."""
        return pick_path(self.paths, group, age)

    def lessons_for_skill(self, skill_id: str) -> list[Lesson]:
        """Return the lessons with at least one topic of this skill, in teaching order."""
        return [
            lesson
            for lesson in self.lessons.values()
            if any(
                topic in self.topics and self.topics[topic].skill == skill_id
                for topic in lesson.topics
            )
        ]

    def quiz_for(self, lesson_id: str) -> Quiz | None:
        """Return the lesson's quiz, or None when it has none."""
        return self.quizzes.get(lesson_id)


class ContentError(Exception):
    """The content has problems; `problems` lists all of them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the content:\n{lines}")


def check_content(root: Path) -> list[Problem]:
    """Return every problem in the content under `root`; never raises for bad content."""
    return _Checker(Path(root)).run()[0]


def load_content(root: Path) -> Content:
    """Load the content under `root`, or raise ContentError listing all its problems."""
    problems, content = _Checker(Path(root)).run()
    if problems or content is None:
        raise ContentError(problems)
    return content


# --- the checker ---

# Singular names of list items, for messages such as "option 2 of question q1".
_ITEM_NAMES = {
    "cards": "card",
    "sources": "source",
    "topics": "topic",
    "groups": "group",
    "questions": "question",
    "options": "option",
    "accept": "accepted answer",
    "skills": "skill",
    ENTRIES: "entry",
    "paraphrases": "paraphrase",
    "paths": "path",
    "core": "core lesson",
    "optional": "optional lesson",
    "examples": "example",
}
_PLURALS = {"accept": "accepted answers", "core": "core lessons", "optional": "optional lessons"}

# Which model sits at a loc (its string parts, union tags included): lists allowed fields.
_MODELS_AT: dict[tuple[str, ...], type[BaseModel]] = {
    (): Lesson,
    ("cards",): Card,
    ("sources",): Source,
    ("questions", _CHOICE): ChoiceQuestion,
    ("questions", _TEXT): TextQuestion,
    ("questions", _CHOICE, "options"): Option,
    ("skills",): Skill,
    ("topics",): Topic,
    (ENTRIES,): Answer,
    (ENTRIES, "sources"): Source,
    ("paths",): LearningPath,
}
_NOT_AUTHORED = {"path", "lesson_id"}  # fields the loader sets or that authors spell otherwise


class _Checker:
    """Reads and checks one content folder, collecting problems instead of stopping."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def run(self) -> tuple[list[Problem], Content | None]:
        if not self.root.is_dir():
            return [Problem(str(self.root), 0, "content folder not found")], None
        topics_file = self._topics()
        # Raw ids, so one broken topic entry does not make every lesson's topics "unknown".
        topic_ids = (
            frozenset(_raw_ids(topics_file.data.get("topics"))) if topics_file is not None else None
        )
        rules = Rules(self.root, topic_ids)
        lessons = self._validate_all("lessons", Lesson, rules, "the lesson", required=True)
        quizzes = self._validate_all("quizzes", Quiz, rules, "the quiz", required=False)
        answers = self._validate_all(
            "answers", AnswerFile, rules, "the file", required=False, list_key=ENTRIES
        )
        paths = self._paths(rules)
        offtopic = self._offtopic(rules)
        self._check_lesson_ids(lessons)
        self._check_quiz_links(lessons, quizzes)
        lesson_ids = {ident for file in lessons if isinstance(ident := file.data.get("id"), str)}
        self.problems += check_answers(answers, lesson_ids)
        # Older content trees (and most test fixtures) predate the answer bank: only a tree
        # that has one is held to covering every topic.
        if topics_file is not None and (self.root / "answers").is_dir():
            self.problems += check_coverage(topics_file, lessons, answers)
        if paths is not None:
            self._check_unique_ids(paths, "paths")
            self.problems += check_paths(paths, lesson_ids)
        problems = sorted(self.problems, key=lambda problem: (problem.file, problem.line))
        if problems or topics_file is None or not isinstance(topics_file.model, _TopicsFile):
            return problems, None
        return problems, _build(topics_file.model, lessons, quizzes, answers, paths, offtopic)

    # reading

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def _add(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def _read(self, path: Path, list_key: str | None = None) -> ContentFile | None:
        """Read one YAML file; with `list_key`, the file is a list read as `{list_key: [...]}`."""
        rel = self._rel(path)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            self._add(rel, 1, "the file is not UTF-8 text; save it with UTF-8 encoding")
            return None
        except OSError as exc:
            self._add(rel, 1, f"cannot read the file: {exc.strerror or exc}")
            return None
        try:
            doc = parse_yaml(text)
        except YamlSyntaxError as exc:
            self._add(rel, exc.line, exc.message)
            return None
        for dup in doc.duplicate_keys:
            self._add(
                rel,
                dup.line,
                f"'{dup.key}' is written twice in the same place (also on line {dup.first_line});"
                " only the last one would be used, so keep one",
            )
        if doc.data is None:
            self._add(rel, 1, "the file is empty")
            return None
        if list_key is not None:
            if isinstance(doc.data, list):
                return ContentFile(rel, _nest(doc, list_key))
            self._add(
                rel,
                doc.line_of(()),
                "the top of the file must be a list of entries, each starting with '- id:',"
                f" not {_kind_of(doc.data)}",
            )
            return None
        if not isinstance(doc.data, dict):
            self._add(
                rel,
                doc.line_of(()),
                f"the top of the file must be fields (name: value), not {_kind_of(doc.data)}",
            )
            return None
        return ContentFile(rel, doc)

    def _topics(self) -> ContentFile | None:
        path = self.root / "topics.yaml"
        if not path.is_file():
            path = PROJECT_TOPICS  # content folders may share the project's taxonomy
        if not path.is_file():
            self._add("topics.yaml", 0, f"topics.yaml not found in {self.root} or {path.parent}")
            return None
        file = self._read(path)
        if file is None:
            return None
        file.model = self._validate(file, _TopicsFile, None, "topics.yaml")
        skill_ids = set(_raw_ids(file.data.get("skills")))
        for name in ("skills", "topics"):
            self._check_unique_ids(file, name)
        topics = file.data.get("topics")
        for index, topic in enumerate(topics if isinstance(topics, list) else []):
            skill = topic.get("skill") if isinstance(topic, dict) else None
            if isinstance(skill, str) and skill not in skill_ids:
                self._add(
                    file.rel,
                    file.doc.line_of(("topics", index, "skill")),
                    f"topic {topic.get('id')!r} names skill {skill!r}, which is not under 'skills'",
                )
        return file

    def _yaml_files(self, folder: Path) -> Iterator[Path]:
        paths = [*folder.rglob("*.yaml"), *folder.rglob("*.yml")]
        # Editors leave hidden backup and lock files (".#lesson.yaml") next to the real ones.
        for path in sorted(paths):
            if path.is_file() and not path.name.startswith("."):
                yield path

    def _paths(self, rules: Rules) -> ContentFile | None:
        path = self.root / PATHS_FILE
        if not path.is_file():
            return None  # paths are optional: without them, lessons are offered by group
        file = self._read(path)
        if file is not None:
            file.model = self._validate(file, PathsFile, rules, PATHS_FILE)
        return file

    def _offtopic(self, rules: Rules) -> ContentFile | None:
        path = self.root / OFFTOPIC_FILE
        if not path.is_file():
            return None  # optional: without it the assistant declines on a low score alone
        file = self._read(path)
        if file is not None:
            file.model = self._validate(file, OffTopicFile, rules, OFFTOPIC_FILE)
        return file

    def _validate_all(
        self,
        folder: str,
        model: type[BaseModel],
        rules: Rules,
        root_name: str,
        *,
        required: bool,
        list_key: str | None = None,
    ) -> list[ContentFile]:
        directory = self.root / folder
        if not directory.is_dir():
            if required:
                self._add(f"{folder}/", 0, "folder not found")
            return []
        files = []
        for path in self._yaml_files(directory):
            file = self._read(path, list_key)
            if file is not None:
                file.model = self._validate(file, model, rules, root_name)
                files.append(file)
        return files

    def _validate(
        self, file: ContentFile, model: type[BaseModel], rules: Rules | None, root_name: str
    ) -> BaseModel | None:
        data = dict(file.data)
        models_at = {**_MODELS_AT, (): model}
        for key in _NOT_AUTHORED & data.keys():
            if key in model.model_fields:
                del data[key]
                self._add(file.rel, file.doc.line_of((key,)), _unknown_field(key, None, model))
        if "path" in model.model_fields:
            data["path"] = file.rel
        try:
            return model.model_validate(data, context=rules)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                if _counts_only_valid_items(error):
                    continue
                loc = tuple(part for part in error["loc"] if part not in (_CHOICE, _TEXT))
                # The line of the key or item the error is about; for a missing field, its parent.
                line = file.doc.line_of(loc)
                message = _describe(error, file.doc, root_name, models_at)
                self._add(file.rel, line, message)
            return None

    # checks across items and files, on the raw data so they run even where fields are broken

    def _claim(
        self, seen: dict[str, tuple[str, int]], key: str, file: ContentFile, loc: Loc
    ) -> tuple[str, int] | None:
        """Record where `key` is first written; return that place if it was already taken."""
        if key in seen:
            return seen[key]
        seen[key] = (file.rel, file.doc.line_of(loc))
        return None

    def _check_unique_ids(self, file: ContentFile, list_name: str) -> None:
        seen: dict[str, tuple[str, int]] = {}
        items = file.data.get(list_name)
        for index, entry in enumerate(items if isinstance(items, list) else []):
            ident = entry.get("id") if isinstance(entry, dict) else None
            loc = (list_name, index, "id")
            if isinstance(ident, str) and (first := self._claim(seen, ident, file, loc)):
                self._add(
                    file.rel,
                    file.doc.line_of(loc),
                    f"{_ITEM_NAMES[list_name]} id '{ident}' is used twice in this file"
                    f" (first on line {first[1]})",
                )

    def _check_lesson_ids(self, lessons: list[ContentFile]) -> None:
        seen: dict[str, tuple[str, int]] = {}
        for file in lessons:
            ident = file.data.get("id")
            if isinstance(ident, str) and (first := self._claim(seen, ident, file, ("id",))):
                self._add(
                    file.rel,
                    file.doc.line_of(("id",)),
                    f"lesson id '{ident}' is already used by {first[0]}:{first[1]};"
                    " every lesson needs its own id",
                )

    def _check_quiz_links(self, lessons: list[ContentFile], quizzes: list[ContentFile]) -> None:
        lesson_ids = {ident for file in lessons if isinstance(ident := file.data.get("id"), str)}
        seen: dict[str, tuple[str, int]] = {}
        for file in quizzes:
            self._check_unique_ids(file, "questions")
            ident = file.data.get("lesson")
            if not isinstance(ident, str):
                continue
            line = file.doc.line_of(("lesson",))
            if ident not in lesson_ids:
                self._add(
                    file.rel,
                    line,
                    f"this quiz is for lesson '{ident}', but there is no lesson with that id"
                    + did_you_mean(ident, lesson_ids),
                )
            elif first := self._claim(seen, ident, file, ("lesson",)):
                self._add(
                    file.rel,
                    line,
                    f"lesson '{ident}' already has a quiz in {first[0]}:{first[1]};"
                    " a lesson can have only one quiz",
                )


def _build(
    topics_file: _TopicsFile,
    lessons: list[ContentFile],
    quizzes: list[ContentFile],
    answers: list[ContentFile],
    paths: ContentFile | None,
    offtopic: ContentFile | None = None,
) -> Content:
    lesson_models = [file.model for file in lessons if isinstance(file.model, Lesson)]
    lesson_models.sort(key=lambda lesson: (lesson.order, lesson.id))
    quiz_models = [file.model for file in quizzes if isinstance(file.model, Quiz)]
    answer_models = [
        answer
        for file in answers
        if isinstance(file.model, AnswerFile)
        for answer in file.model.entries
    ]
    return Content(
        lessons=MappingProxyType({lesson.id: lesson for lesson in lesson_models}),
        quizzes=MappingProxyType({quiz.lesson_id: quiz for quiz in quiz_models}),
        topics=MappingProxyType({topic.id: topic for topic in topics_file.topics}),
        skills=MappingProxyType({skill.id: skill for skill in topics_file.skills}),
        answers=MappingProxyType({answer.id: answer for answer in answer_models}),
        paths=paths.model.paths if paths is not None and isinstance(paths.model, PathsFile) else (),
        offtopic=(
            offtopic.model.examples
            if offtopic is not None and isinstance(offtopic.model, OffTopicFile)
            else ()
        ),
    )


def _nest(doc: YamlDoc, key: str) -> YamlDoc:
    """Present a document whose top is a list as the mapping `{key: <the list>}`."""
    return YamlDoc(
        data={key: doc.data},
        lines={(): doc.line_of(()), **{(key, *loc): line for loc, line in doc.lines.items()}},
        raw_scalars={(key, *loc): raw for loc, raw in doc.raw_scalars.items()},
        duplicate_keys=doc.duplicate_keys,
    )


def _raw_ids(items: object) -> Iterator[str]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            yield item["id"]


# --- messages for teachers ---


def _kind_of(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a group of fields"
    return "a date" if hasattr(value, "isoformat") else f"a {type(value).__name__}"


def _unknown_field(name: object, owner: str | None, model: type[BaseModel] | None) -> str:
    message = f"unknown field '{name}'" + (f" in {owner}" if owner else "")
    if model is None:
        return message
    allowed = [
        info.alias or field
        for field, info in model.model_fields.items()
        if field not in _NOT_AUTHORED or info.alias
    ]
    return f"{message}{did_you_mean(str(name), allowed)}; allowed fields: {', '.join(allowed)}"


def _where(loc: tuple[Hashable, ...], data: object) -> tuple[str | None, str | None]:
    """Name the item a loc points into ("option 2 of question q1") and the field, if any."""
    owners: list[str] = []
    field: str | None = None
    node = data
    index = 0
    while index < len(loc):
        part = loc[index]
        following = loc[index + 1] if index + 1 < len(loc) else None
        child = node.get(part) if isinstance(node, dict) else None
        if isinstance(part, str) and isinstance(following, int):
            item = child[following] if isinstance(child, list) and following < len(child) else None
            label = str(following + 1)
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label = item["id"]  # teachers find "question q2" faster than "question 2"
            owners.insert(0, f"{_ITEM_NAMES.get(part, part)} {label}")
            node, field, index = item, None, index + 2
        else:
            node, field, index = child, str(part), index + 1
    return (" of ".join(owners) or None), field


def _subject(owner: str | None, field: str | None, root_name: str) -> str:
    if field is None:
        return owner or root_name
    if owner is None:
        return f"'{field}'"
    if field == "text":
        return owner  # "card 3 is 412 characters long", not "'text' of card 3 is ..."
    return f"'{field}' of {owner}"


def _counts_only_valid_items(error: ErrorDetails) -> bool:
    """Tell a list that is long enough but has broken items; those items are reported."""
    # pydantic counts only the items that validated, so "needs at least 2 options; it has 0"
    # would be wrong when both options are written and merely lack an explanation.
    written = error.get("input")
    minimum = (error.get("ctx") or {}).get("min_length", 0)
    return error["type"] == "too_short" and isinstance(written, list) and len(written) >= minimum


def _describe(
    error: ErrorDetails,
    doc: YamlDoc,
    root_name: str,
    models_at: Mapping[tuple[str, ...], type[BaseModel]],
) -> str:
    """Turn one pydantic error into a sentence a teacher can act on."""
    kind = error["type"]
    loc = tuple(part for part in error["loc"] if part not in (_CHOICE, _TEXT))
    owner, field = _where(loc, doc.data)
    subject = _subject(owner, field, root_name)
    value = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "extra_forbidden":
        model_key = tuple(part for part in error["loc"][:-1] if isinstance(part, str))
        return _unknown_field(field, owner, models_at.get(model_key))
    if kind == "missing":
        hint = _MISSING_HINTS.get(str(field), "")
        return f"{owner or root_name} is missing the required field '{field}'{hint}"
    if kind in ("string_type", "tuple_type", "list_type") and value is None:
        return f"{subject} is empty"  # `title:` with nothing after it
    if kind == "string_type":
        raw = doc.raw_scalars.get(loc)  # what YAML read as a number, date or true/false
        quote = f'; put it in quotes: "{raw}"' if raw is not None else ""
        return f"{subject} must be text, not {_kind_of(value)}{quote}"
    if kind in ("too_short", "too_long"):
        limit = ctx["min_length"] if kind == "too_short" else ctx["max_length"]
        have = len(value) if isinstance(value, list) else ctx.get("actual_length", 0)
        if kind == "too_short":
            return f"{subject} needs at least {_items(field, limit)}; it has {have}"
        return f"{subject} has {_items(field, have)}; the limit is {limit}"
    if kind == "question_kind":
        return f"{subject} {_question_kind_problem(value)}"
    if kind in _WRONG_TYPE:
        return f"{subject} must be {_WRONG_TYPE[kind]}, not {_kind_of(value)}"
    # Our own validators word their message as the rest of a sentence about the subject.
    return f"{subject} {error['msg']}" if kind in _OWN_ERRORS else f"{subject}: {error['msg']}"


def _items(field: str | None, count: int) -> str:
    if count == 1:
        return f"1 {_ITEM_NAMES.get(str(field), 'item')}"
    return f"{count} {_PLURALS.get(str(field), field or 'items')}"


def _question_kind_problem(value: object) -> str:
    if not isinstance(value, dict):
        return f"must be a group of fields (id, text, ...), not {_kind_of(value)}"
    if "options" in value:
        return (
            "has both 'options' and 'accept'; a question is either single-choice (options)"
            " or free-text (accept and explanation)"
        )
    return (
        "needs either 'options' (a single-choice question) or 'accept' and 'explanation'"
        " (a free-text question)"
    )


_WRONG_TYPE = {
    "tuple_type": "a list (one '- ' line per item, or [a, b])",
    "list_type": "a list (one '- ' line per item, or [a, b])",
    "model_type": "a group of fields (like 'text: ...')",
    "dict_type": "a group of fields (like 'text: ...')",
    "int_type": "a whole number",
    "bool_type": "true or false (without quotes)",
}
_OWN_ERRORS = {
    "empty_text",
    "text_too_long",
    "bad_id",
    "unknown_topic",
    "unknown_group",
    "bad_image",
    "image_not_found",
    "bad_url",
    "correct_count",
    "pass_mark_range",
    "age_range",
}
_MISSING_HINTS = {
    "explanation": " (shown to the learner after they answer)",
    "accept": " (the answers to accept)",
    "sources": " (the pages the facts come from)",
    "paraphrases": " (other ways residents ask the question, at least 2)",
}
