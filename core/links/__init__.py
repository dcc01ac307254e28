"""Reply-link inference: which earlier message(s) each chat message answers.

``infer_links(messages, mode=..., author_names=...)`` is the whole public surface with
``ChatMessage`` and ``InferredLink``; see ``docs/links.md`` for the method and its figures.
"""

from core.links.infer import infer_links
from core.links.types import ChatMessage, InferredLink

__all__ = ["ChatMessage", "InferredLink", "infer_links"]
