"""Learning paths: `paths.yaml`, the ordered lessons each target group is asked to complete.

A path belongs to one target group; a path with `min_age` is for the group's members at least
that old (older residents start with different lessons). Completing every `core` lesson earns
the group's certificate; `optional` lessons are suggested afterwards. The checks here span the
paths and the lessons and run on the raw YAML data, like the lesson checks in `bot.content`.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping

from pydantic import Field, StrictInt, field_validator

from bot.contentfields import (
    TARGET_GROUPS,
    ContentFile,
    ContentModel,
    GroupId,
    Id,
    Problem,
    Text,
    did_you_mean,
    fail,
)

__all__ = ["PATHS_FILE", "LearningPath", "PathsFile", "check_paths", "pick_path"]

PATHS_FILE = "paths.yaml"
MAX_AGE = 120


class LearningPath(ContentModel):
    """The ordered lessons a target group (or its older members) is asked to complete."""

    id: Id
    title: Text
    group: GroupId
    min_age: StrictInt | None = None  # for members at least this old (from their birth year)
    core: tuple[Id, ...] = Field(min_length=1)  # in teaching order; all of them: certificate
    optional: tuple[Id, ...] = ()

    @field_validator("min_age")
    @classmethod
    def _plausible_age(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_AGE:
            raise fail(
                "age_range",
                "is {value}; it must be an age in years between 1 and {limit}",
                value=value,
                limit=MAX_AGE,
            )
        return value

    @property
    def lessons(self) -> tuple[str, ...]:
        """The ids of the core lessons followed by the optional ones."""
        return (*self.core, *self.optional)


class PathsFile(ContentModel):
    """The whole of `paths.yaml`."""

    paths: tuple[LearningPath, ...] = ()


def pick_path(
    paths: Iterable[LearningPath], group: str | None, age: int | None
) -> LearningPath | None:
    """Return the learner's path: the highest matching min_age, else the group's plain one."""
    if group is None:
        return None
    fitting = [
        path
        for path in paths
        if path.group == group
        and (path.min_age is None or (age is not None and age >= path.min_age))
    ]
    # The plain path (no min_age) ranks below every age-specific one that fits.
    return max(fitting, key=lambda path: path.min_age or 0, default=None)


def check_paths(file: ContentFile, lesson_ids: Collection[str]) -> list[Problem]:
    """Return the problems that span paths: lessons, repeats, clashing and missing groups."""
    problems: list[Problem] = []
    # (group, min_age) -> the first path for it: index, label, line
    audiences: dict[tuple[str, int | None], tuple[int, str, int]] = {}
    plain_groups: set[str] = set()
    paths = file.data.get("paths")
    for index, path in enumerate(paths if isinstance(paths, list) else []):
        if not isinstance(path, dict):
            continue
        ident = path.get("id")
        label = ident if isinstance(ident, str) else str(index + 1)
        problems.extend(_check_lessons(file, index, path, label, lesson_ids))
        group, min_age = path.get("group"), path.get("min_age")
        if not isinstance(group, str) or not (min_age is None or isinstance(min_age, int)):
            continue
        if min_age is None:
            plain_groups.add(group)
        line = file.line_of(("paths", index, "group"))
        first = audiences.setdefault(
            (group, min_age), (index, label, file.line_of(("paths", index)))
        )
        if first[0] != index:
            audience = "with no min_age" if min_age is None else f"with min_age {min_age}"
            problems.append(
                Problem(
                    file.rel,
                    line,
                    f"path {label} is for group {group} {audience}, like path {first[1]}"
                    f" (line {first[2]}); a learner can follow only one, so merge them or"
                    " change min_age",
                )
            )
    if isinstance(paths, list):
        for group, name in TARGET_GROUPS.items():
            if group not in plain_groups:
                problems.append(
                    Problem(
                        file.rel,
                        file.line_of(("paths",)),
                        f"target group {group} ({name}) has no learning path without min_age;"
                        f" add one with 'group: {group}' so every member has a path",
                    )
                )
    return problems


def _check_lessons(
    file: ContentFile,
    index: int,
    path: Mapping[Hashable, object],
    label: str,
    lesson_ids: Collection[str],
) -> list[Problem]:
    problems = []
    seen: dict[str, tuple[str, int]] = {}  # lesson -> where it first is ("core lesson 2"), line
    for part in ("core", "optional"):
        items = path.get(part)
        for number, lesson in enumerate(items if isinstance(items, list) else []):
            if not isinstance(lesson, str):
                continue
            line = file.line_of(("paths", index, part, number))
            where = f"{part} lesson {number + 1} of path {label}"
            if lesson not in lesson_ids:
                problems.append(
                    Problem(
                        file.rel,
                        line,
                        f"{where} is '{lesson}', but there is no lesson with that id"
                        + did_you_mean(lesson, lesson_ids),
                    )
                )
            elif lesson in seen:
                first, first_line = seen[lesson]
                problems.append(
                    Problem(
                        file.rel,
                        line,
                        f"{where} is '{lesson}', which is already {first} (line {first_line});"
                        " a path lists each lesson once",
                    )
                )
            else:
                seen[lesson] = (f"{part} lesson {number + 1}", line)
    return problems
