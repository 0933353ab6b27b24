"""Learning paths: which lessons a target group must pass to complete its core path.

A group's core path is the `core` of its learning path in `paths.yaml` (the one without
min_age); content without paths falls back to every lesson tagged with the group. `core_path`
is the one place that decides, so the statistics and the certificate follow whatever it returns.
"""

from __future__ import annotations

from bot.content import Content


def core_path(content: Content, group: str) -> frozenset[str]:
    """Return the ids of the lessons a learner of `group` must pass to complete the core path."""
    path = content.path_for(group, None)  # no age: the group's plain path, whatever the age
    if path is not None:
        return frozenset(path.core)
    return frozenset(lesson.id for lesson in content.lessons.values() if group in lesson.groups)
