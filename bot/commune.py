"""The commune file: hamlets, population per target group, and the plan's targets.

Completion rates need denominators; officials edit this file, never the database, so changing
it needs a restart at most and never a migration.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.content import TARGET_GROUPS
from bot.textnorm import fold

_Id = Annotated[str, Field(pattern=r"^[a-z0-9-]+$", max_length=40)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommuneInfo(_Frozen):
    """Who this deployment serves."""

    name: str
    province: str
    placeholder_hamlets: bool = False


class Hamlet(_Frozen):
    """A hamlet (thôn, bản, tổ dân phố) with its population per target group."""

    id: _Id
    name: str
    aliases: tuple[str, ...] = ()
    population: dict[str, Annotated[int, Field(ge=0)]]

    @model_validator(mode="after")
    def _known_groups(self) -> Hamlet:
        unknown = set(self.population) - set(TARGET_GROUPS)
        if unknown:
            raise ValueError(
                f"unknown target group(s) {sorted(unknown)}; use {list(TARGET_GROUPS)}"
            )
        return self


class Target(_Frozen):
    """A share of a target group that must have the basic skills by a deadline."""

    group: str
    share: Annotated[float, Field(gt=0, le=1)]
    deadline: dt.date
    strictly_above: bool = False

    @model_validator(mode="after")
    def _known_group(self) -> Target:
        if self.group not in TARGET_GROUPS:
            raise ValueError(f"unknown target group {self.group!r}; use {list(TARGET_GROUPS)}")
        return self


class Commune(_Frozen):
    """The whole commune file."""

    commune: CommuneInfo
    hamlets: tuple[Hamlet, ...] = Field(min_length=1)
    targets: tuple[Target, ...] = ()

    @model_validator(mode="after")
    def _unique_hamlets(self) -> Commune:
        ids = [hamlet.id for hamlet in self.hamlets]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate hamlet id(s) {duplicates}")
        return self

    def hamlet(self, hamlet_id: str | None) -> Hamlet | None:
        """The hamlet with this id, if any."""
        return next((h for h in self.hamlets if h.id == hamlet_id), None)

    def find_hamlet(self, typed: str) -> Hamlet | None:
        """Match what a learner typed against hamlet names and aliases, diacritics ignored."""
        wanted = fold(typed)
        for hamlet in self.hamlets:
            names = (hamlet.id, hamlet.name, *hamlet.aliases)
            if wanted and any(fold(name) == wanted for name in names):
                return hamlet
        return None


class CommuneError(Exception):
    """The commune file is unreadable or invalid; the message says where."""


def load_commune(path: Path) -> Commune:
    """Read and validate the commune file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CommuneError(f"{path}: {exc}") from None
    try:
        return Commune.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{path}: {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise CommuneError("\n".join(problems)) from None
