"""Features of (message, candidate antecedent) pairs, computed for a block of messages at once.

Candidates of message ``i`` are ``i - d`` for ``d`` in ``0..window`` (``d = 0`` is the
message itself: "starts a conversation"). Every feature is a numpy expression over a
``(rows, window + 1)`` grid, so no Python runs per pair: counts "between" a candidate and
the message are running sums along the grid's offset axis, and chains of an author's posts
are followed one offset at a time for all rows together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.links.structure import STRUCTURE_FEATURES
from core.links.text import FLAG, NAME_SLOTS, AnalysedStream

# Each feature belongs to one family, so the benchmark can measure what a family adds.
FAMILIES = (
    "position",
    "names",
    "time",
    "turn_taking",
    "question_answer",
    "lexical",
    "embeddings",
    "structure",
)

FEATURES: tuple[tuple[str, str], ...] = (
    ("is_self", "position"),
    ("log_distance", "position"),
    ("candidate_is_system", "position"),
    ("message_is_system", "position"),
    ("message_log_chars", "position"),
    ("candidate_log_chars", "position"),
    ("relative_gap", "time"),
    ("message_relative_gap_previous", "time"),
    ("candidate_relative_gap_next", "time"),
    ("addresses_candidate_author", "names"),
    ("names_candidate_author", "names"),
    ("candidate_addresses_message_author", "names"),
    ("candidate_names_message_author", "names"),
    ("addresses_someone_else", "names"),
    ("message_addresses_someone", "names"),
    ("message_names_anyone", "names"),
    ("candidate_addresses_someone", "names"),
    ("log_namings_of_message_author_between", "names"),
    ("same_author", "turn_taking"),
    ("log_message_author_posts_between", "turn_taking"),
    ("log_candidate_author_posts_between", "turn_taking"),
    ("is_previous_post_of_message_author", "turn_taking"),
    ("is_latest_post_of_candidate_author", "turn_taking"),
    ("recent_exchange_between_authors", "turn_taking"),
    ("candidate_author_spoke_to_message_author_last", "turn_taking"),
    ("message_author_last_named_candidate_author", "turn_taking"),
    ("candidate_author_last_named_message_author", "turn_taking"),
    ("channel_adjacency", "turn_taking"),
    ("message_question", "question_answer"),
    ("candidate_question", "question_answer"),
    ("message_question_opener", "question_answer"),
    ("candidate_question_opener", "question_answer"),
    ("message_answer_opener", "question_answer"),
    ("message_greeting", "question_answer"),
    ("candidate_greeting", "question_answer"),
    ("message_thanks", "question_answer"),
    ("candidate_thanks", "question_answer"),
    ("answers_open_question", "question_answer"),
    ("shared_words", "lexical"),
    ("shared_idf", "lexical"),
    ("shared_idf_below_best", "lexical"),
    ("shared_word_ratio", "lexical"),
    ("embedding_cosine", "embeddings"),
    ("embedding_cosine_below_best", "embeddings"),
    *((name, "structure") for name in STRUCTURE_FEATURES),
)
FEATURE_NAMES = tuple(name for name, _ in FEATURES)
FEATURE_FAMILY = dict(FEATURES)
COLUMN = {name: column for column, name in enumerate(FEATURE_NAMES)}


def columns_without(families: Sequence[str]) -> list[int]:
    """Columns a model uses when the given families are left out (for ablations)."""
    return [column for column, (_, family) in enumerate(FEATURES) if family not in families]


@dataclass
class PairGrid:
    """Features of every (message, candidate) pair for the messages ``rows`` of a stream.

    ``rows`` are stream positions in increasing order, ``start..stop`` when the grid covers
    a contiguous block. ``values`` is feature-major, ``(features, rows, window + 1)``, so
    each feature is written and read as one contiguous block.
    """

    start: int
    stop: int
    window: int
    values: np.ndarray  # float32 (len(FEATURES), rows, window + 1)
    valid: np.ndarray  # bool (rows, window + 1): the candidate exists
    rows: np.ndarray  # int64 stream position of each row

    def pair_matrix(self, columns: Sequence[int] | None = None) -> np.ndarray:
        """Valid pairs as rows (in the grid's row-major order), features as columns."""
        pairs = self.values.reshape(len(self.values), -1)[:, self.valid.ravel()]
        return np.ascontiguousarray((pairs if columns is None else pairs[list(columns)]).T)

    def features_of(self, row: int, offset: int) -> dict[str, float]:
        column = self.values[:, row, offset].tolist()
        return dict(zip(FEATURE_NAMES, column, strict=True))


def word_overlap(
    stream: AnalysedStream, window: int, start: int = 0, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Shared content words, and their summed IDF, of messages ``start..stop`` and their window.

    IDF comes from the whole stream. Both arrays are ``(stop - start, window + 1)``.
    """
    stop = len(stream) if stop is None else stop
    return word_overlap_rows(stream, window, np.arange(start, max(start, stop), dtype=np.int64))


def word_overlap_rows(
    stream: AnalysedStream, window: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``word_overlap`` of the messages at positions ``rows`` (increasing)."""
    shared = np.zeros((len(rows), window + 1), dtype=np.float32)
    shared_idf = np.zeros((len(rows), window + 1), dtype=np.float32)
    if len(stream.word_id) == 0 or len(rows) == 0:
        return shared, shared_idf
    first, stop = int(rows[0]) - window, int(rows[-1]) + 1
    row_at = np.full(stop - first, -1, dtype=np.int64)  # stream position - first → row
    row_at[rows - first] = np.arange(len(rows))
    inside = (stream.word_msg >= first) & (stream.word_msg < stop)
    word_ids, word_msgs = stream.word_id[inside], stream.word_msg[inside]
    order = np.lexsort((word_msgs, word_ids))
    words, messages = word_ids[order], word_msgs[order]
    # Occurrences of a word are adjacent and in message order, so pairs within the window
    # are found by comparing each occurrence with the one ``lag`` places later; once no
    # pair is found at some lag, none is found at any larger lag. (Words are numbered per
    # stream, so no pair ever crosses from one stream into another.)
    # The pairs' grid cells and IDFs are summed once at the end (``bincount``: many times
    # faster than ``np.add.at`` per lag).
    cells: list[np.ndarray] = []
    idfs: list[np.ndarray] = []
    width = window + 1
    lag = 1
    while lag < len(words):
        near = (words[lag:] == words[:-lag]) & (messages[lag:] - messages[:-lag] <= window)
        if not near.any():
            break
        later_row = row_at[messages[lag:] - first]
        hit = near & (later_row >= 0)
        offset = (messages[lag:] - messages[:-lag])[hit]
        cells.append(later_row[hit] * width + offset)
        idfs.append(stream.idf[words[lag:][hit]])
        lag += 1
    if cells:
        cell = np.concatenate(cells)
        size = shared.size
        shared.ravel()[:] = np.bincount(cell, minlength=size)
        shared_idf.ravel()[:] = np.bincount(cell, weights=np.concatenate(idfs), minlength=size)
    return shared, shared_idf


def embedding_cosines(embeddings: np.ndarray, window: int, start: int = 0) -> np.ndarray:
    """Cosines of messages ``start..`` of ``embeddings`` (unit rows) with their window."""
    n = len(embeddings)
    cosines = np.zeros((max(n - start, 0), window + 1), dtype=np.float32)
    cosines[:, 0] = 1.0
    for offset in range(1, window + 1):
        first = max(start, offset)
        if first >= n:
            break
        cosines[first - start :, offset] = np.einsum(
            "ij,ij->i", embeddings[first:], embeddings[first - offset : n - offset]
        )
    return cosines


def _names(stream: AnalysedStream, messages: np.ndarray, authors: np.ndarray) -> np.ndarray:
    """How strongly each message names each author (0 to 3), over broadcast grids."""
    shape = np.broadcast_shapes(messages.shape, authors.shape)
    strength = np.zeros(shape, dtype=np.float32)
    for slot in range(NAME_SLOTS):
        hit = stream.named[messages, slot] == authors
        np.maximum(strength, np.where(hit, stream.naming_strength[messages, slot], 0), out=strength)
    return strength


def _exclusive_cumsum(hits: np.ndarray) -> np.ndarray:
    """For each offset d, how many of offsets 1..d-1 are hits (offset 0 is the message)."""
    running = np.zeros(hits.shape, dtype=np.float32)
    if hits.shape[1] > 2:
        np.cumsum(hits[:, 1:-1], axis=1, out=running[:, 2:])
    return running


def _recent_exchanges(
    stream: AnalysedStream,
    author_grid: np.ndarray,
    message_author: np.ndarray,
    candidate: np.ndarray,
    valid: np.ndarray,
) -> np.ndarray:
    """Whether the two authors named each other anywhere in the message's window."""
    rows, width = author_grid.shape
    row_index = np.broadcast_to(np.arange(rows, dtype=np.int64)[:, None], (rows, width))
    earlier = valid.copy()
    earlier[:, 0] = False
    n_authors = np.int64(max(stream.n_authors, 1))
    spoke: list[np.ndarray] = []
    for slot in range(NAME_SLOTS):
        named = stream.named[candidate, slot]
        # Authors this message's author named, and authors who named this message's author.
        by_me = earlier & (author_grid == message_author) & (named >= 0)
        to_me = earlier & (named == message_author)
        spoke.append(row_index[by_me] * n_authors + named[by_me])
        spoke.append(row_index[to_me] * n_authors + author_grid[to_me])
    keys = np.unique(np.concatenate(spoke))
    if len(keys) == 0:
        return np.zeros((rows, width), dtype=bool)
    query = row_index * n_authors + author_grid
    found = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return keys[found] == query


def _later_posts(
    stream: AnalysedStream, current: np.ndarray, candidate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posts by the candidate's author after the candidate, and the latest of them.

    A later post of the same author sits at a smaller offset, so walking the offsets in
    order finds its count already computed.
    """
    rows, width = candidate.shape
    count = np.zeros((rows, width), dtype=np.float32)
    latest = candidate.copy()
    row_index = np.arange(rows)
    next_post = stream.next_post[candidate]
    later_exists = next_post < current
    for step in range(1, width):
        has_later = later_exists[:, step]
        if not has_later.any():
            continue
        later_offset = np.where(has_later, current[:, 0] - next_post[:, step], 0)
        count[:, step] = np.where(has_later, count[row_index, later_offset] + 1, 0)
        latest[:, step] = np.where(has_later, latest[row_index, later_offset], candidate[:, step])
    return count, latest


def pair_grid(
    stream: AnalysedStream,
    start: int,
    stop: int,
    window: int,
    overlap: tuple[np.ndarray, np.ndarray],
    cosines: np.ndarray | None,
    structure: np.ndarray | None = None,
) -> PairGrid:
    """Features of messages ``start..stop`` against their ``window`` previous messages.

    ``overlap``, ``cosines`` and ``structure`` cover the same rows (``word_overlap(stream,
    window, start, stop)``, ``embedding_cosines``, ``structure.structure_grid``); without
    cosines or structure, those features stay 0.
    """
    rows = np.arange(start, max(start, stop), dtype=np.int64)
    grid = pair_grid_rows(stream, rows, window, overlap, cosines, structure)
    grid.start, grid.stop = start, stop
    return grid


def pair_grid_rows(
    stream: AnalysedStream,
    rows: np.ndarray,
    window: int,
    overlap: tuple[np.ndarray, np.ndarray],
    cosines: np.ndarray | None = None,
    structure: np.ndarray | None = None,
) -> PairGrid:
    """``pair_grid`` of the messages at positions ``rows`` (increasing), which may belong to
    different streams of ``stream``: each message's candidates stop at its stream's start."""
    width = window + 1
    current = rows[:, None]
    offset = np.arange(width, dtype=np.int64)[None, :]
    first = stream.segment_start[rows][:, None]
    valid = current - offset >= first
    candidate = np.maximum(current - offset, first)
    # Every feature is written below (the embedding ones only with cosines), so no zeroing;
    # positions without a candidate hold arbitrary values that ``valid`` masks everywhere.
    values = np.empty((len(FEATURES), len(rows), width), dtype=np.float32)

    def put(name: str, column: np.ndarray | float) -> None:
        values[COLUMN[name]] = column

    flags = stream.flags
    author_i = stream.author[current]
    author_j = stream.author[candidate]
    seconds = stream.seconds
    is_self = offset == 0
    not_self = ~is_self
    same_author = (author_i == author_j) & not_self

    put("is_self", is_self)
    put("log_distance", np.log1p(offset))
    put("candidate_is_system", stream.is_system[candidate])
    put("message_is_system", stream.is_system[current])
    put("message_log_chars", flags[current, FLAG["log_chars"]])
    put("candidate_log_chars", flags[candidate, FLAG["log_chars"]])

    # Gaps in units of the channel's recent pace: a minute is long on IRC and short on a
    # student Discord, and the model must work on both.
    pace = stream.pace[current]
    put("relative_gap", np.log1p(np.maximum(seconds[current] - seconds[candidate], 0.0) / pace))
    previous = np.maximum(current - 1, first)
    gap_before = np.maximum(seconds[current] - seconds[previous], 0.0)
    put("message_relative_gap_previous", np.log1p(gap_before / pace))
    following = np.minimum(candidate + 1, stream.segment_stop[rows][:, None] - 1)
    gap_after = np.maximum(seconds[following] - seconds[candidate], 0.0)
    put("candidate_relative_gap_next", np.log1p(gap_after / pace))

    names_j = _names(stream, current, author_j)  # the message names the candidate's author
    names_i = _names(stream, candidate, author_i)  # the candidate names the message's author
    names_i[:, 0] = 0
    put("addresses_candidate_author", names_j >= 2)
    put("names_candidate_author", names_j)
    put("candidate_addresses_message_author", names_i >= 2)
    put("candidate_names_message_author", names_i)
    addresses_someone = flags[current, FLAG["addresses_someone"]]
    put("addresses_someone_else", (addresses_someone > 0) & (names_j < 2) & not_self)
    put("message_addresses_someone", addresses_someone)
    put("message_names_anyone", flags[current, FLAG["names_anyone"]])
    put("candidate_addresses_someone", flags[candidate, FLAG["addresses_someone"]])
    namings_between = _exclusive_cumsum((names_i > 0) & valid)
    put("log_namings_of_message_author_between", np.log1p(namings_between))

    own_between = _exclusive_cumsum((author_j == author_i) & valid)
    their_between, their_latest = _later_posts(stream, current, candidate)
    is_latest = (their_between == 0) & not_self
    put("same_author", same_author)
    put("log_message_author_posts_between", np.log1p(own_between))
    put("log_candidate_author_posts_between", np.log1p(their_between))
    put("is_previous_post_of_message_author", same_author & (own_between == 0))
    put("is_latest_post_of_candidate_author", is_latest)
    exchanges = _recent_exchanges(stream, author_j, author_i, candidate, valid)
    put("recent_exchange_between_authors", exchanges & ~same_author & not_self)
    put("candidate_author_spoke_to_message_author_last", (names_i > 0) & is_latest)
    own_previous = stream.previous_post[current]
    named_by_previous = _names(stream, np.maximum(own_previous, 0), author_j) > 0
    put(
        "message_author_last_named_candidate_author",
        named_by_previous & (own_previous >= 0) & ~same_author & not_self,
    )
    latest_names_i = _names(stream, their_latest, author_i) > 0
    put("candidate_author_last_named_message_author", latest_names_i & ~same_author & not_self)

    put("channel_adjacency", stream.adjacency[current])

    question_j = flags[candidate, FLAG["question"]]
    put("message_question", flags[current, FLAG["question"]])
    put("candidate_question", question_j)
    put("message_question_opener", flags[current, FLAG["question_opener"]])
    put("candidate_question_opener", flags[candidate, FLAG["question_opener"]])
    put("message_answer_opener", flags[current, FLAG["answer_opener"]])
    put("message_greeting", flags[current, FLAG["greeting"]])
    put("candidate_greeting", flags[candidate, FLAG["greeting"]])
    put("message_thanks", flags[current, FLAG["thanks"]])
    put("candidate_thanks", flags[candidate, FLAG["thanks"]])
    put("answers_open_question", (question_j > 0) & ~same_author & is_latest)

    shared, shared_idf = overlap
    words_i = flags[current, FLAG["words"]]
    words_j = flags[candidate, FLAG["words"]]
    put("shared_words", shared)
    put("shared_idf", shared_idf)
    best_idf = np.max(shared_idf, axis=1, keepdims=True)
    put("shared_idf_below_best", (best_idf - shared_idf) * not_self)
    put("shared_word_ratio", shared / np.sqrt(np.maximum(words_i * words_j, 1.0)))

    if cosines is None:
        put("embedding_cosine", 0.0)
        put("embedding_cosine_below_best", 0.0)
    else:
        cosine = np.where(valid & not_self, cosines, 0.0)
        put("embedding_cosine", cosine)
        best = np.max(np.where(valid & not_self, cosine, -1.0), axis=1, keepdims=True)
        put("embedding_cosine_below_best", (best - cosine) * not_self)
    first_structure = COLUMN[STRUCTURE_FEATURES[0]]
    structure_columns = slice(first_structure, first_structure + len(STRUCTURE_FEATURES))
    values[structure_columns] = 0.0 if structure is None else structure
    start, stop = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)
    return PairGrid(start=start, stop=stop, window=window, values=values, valid=valid, rows=rows)
