"""Channel-free conversation core: `Incoming -> Engine -> list[Reply]`.

Imports no chat SDK, web framework, HTTP client or ORM (a test keeps it that way).
"""

from bot.engine.engine import Engine
from bot.engine.messages import Button, Incoming, Reply
from bot.engine.ports import Repository
from bot.engine.states import State

__all__ = ["Button", "Engine", "Incoming", "Reply", "Repository", "State"]
