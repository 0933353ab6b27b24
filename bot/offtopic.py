"""`offtopic.yaml`: questions residents ask that hocvuso does not teach.

The assistant learns from these examples where its knowledge ends, so a question about the
weather, pig feed or tonight's football gets an honest "not sure" and the way to a volunteer
instead of a guessed lesson. The file is optional; without it the assistant declines only
on a low score.
"""

from __future__ import annotations

from pydantic import Field

from bot.contentfields import ContentModel, Text

__all__ = ["OFFTOPIC_FILE", "OffTopicFile"]

OFFTOPIC_FILE = "offtopic.yaml"


class OffTopicFile(ContentModel):
    """The whole of `offtopic.yaml`: a list of example questions outside every topic."""

    examples: tuple[Text, ...] = Field(min_length=1)
