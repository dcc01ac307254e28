"""Questions and their first answers, from message types, reply links and mentions.

A message typed ``question`` is answered by the earliest later message of another person
that links to it:

1. a reply (``reference_id``) or an inferred reply whose evidence names it; any such message
   counts, whatever its own type (the classifier may call a short reply "other", but it
   still answered the person who asked);
2. a message typed ``answer`` that links to nothing answers the latest earlier question of
   someone else in the same topic (thread, else channel): the classifier's rule "follows
   an open question" (docs/interfaces.md) types such messages without storing the link;
3. a message that mentions the asker answers the asker's latest earlier question in the
   same topic, asked at most ``ADDRESSED_HORIZON`` before (answers given days later
   usually address the asker by name).

Unlinked chatter after a question is not an answer: in a busy channel someone always
speaks within hours, and counting that would hide exactly the unanswered questions this
measures. Answers that address the asker only in text ("Ana: try…") are found when link
inference adds them as inferred replies, which rule 1 reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.nda.dataset import NDADataset

QUESTION_COLUMNS = (
    "question_id",
    "ts",
    "asker",
    "topic",
    "channel_team",
    "answer_id",
    "answered_at",
    "answerer",
    "latency_hours",
)
FOLLOW_HORIZON = pd.Timedelta(hours=48)
ADDRESSED_HORIZON = pd.Timedelta(days=7)
ADDRESSING_TYPES = ("mention",)


def _empty_links() -> pd.DataFrame:
    return pd.DataFrame(
        {"answer_id": pd.Series(dtype=np.int64), "question_id": pd.Series(dtype=np.int64)}
    )


def _links(matched: pd.DataFrame) -> pd.DataFrame:
    matched = matched[matched["question_id"].notna()]
    return pd.DataFrame(
        {
            "answer_id": matched["id"].to_numpy(np.int64),
            "question_id": matched["question_id"].to_numpy(np.int64),
        }
    )


def following_answers(messages: pd.DataFrame, linked: np.ndarray) -> pd.DataFrame:
    """Rule 2: unlinked ``answer`` messages → the topic's latest earlier question."""
    answers = messages[(messages["message_type"] == "answer") & ~messages["id"].isin(linked)]
    questions = messages[messages["message_type"] == "question"]
    if answers.empty or questions.empty:
        return _empty_links()
    matched = pd.merge_asof(
        answers[["ts", "topic", "id", "author"]].sort_values("ts", kind="stable"),
        questions[["ts", "topic", "id", "author"]]
        .rename(columns={"id": "question_id", "author": "asker"})
        .sort_values("ts", kind="stable"),
        on="ts",
        by="topic",
        direction="backward",
        tolerance=FOLLOW_HORIZON,
        allow_exact_matches=False,
    )
    return _links(matched[matched["asker"] != matched["author"]])


def addressed_answers(ds: NDADataset, linked: np.ndarray) -> pd.DataFrame:
    """Rule 3: unlinked messages mentioning someone → that person's latest question there."""
    messages = ds.messages
    rows = ds.interfaces
    mentions = rows[
        rows["interface_type"].isin(ADDRESSING_TYPES).to_numpy()
        & (rows["dst"].to_numpy() >= 0)
        & (rows["message_id"].to_numpy() >= 0)
    ]
    if mentions.empty:
        return _empty_links()
    addressed = pd.DataFrame(
        {
            "id": mentions["message_id"].to_numpy(np.int64),
            "asker": mentions["dst"].to_numpy(np.int64),
        }
    ).drop_duplicates()
    candidates = messages[(messages["message_type"] != "question") & ~messages["id"].isin(linked)]
    addressed = addressed.merge(candidates[["id", "ts", "topic", "author"]], on="id")
    questions = messages[messages["message_type"] == "question"]
    if addressed.empty or questions.empty:
        return _empty_links()
    matched = pd.merge_asof(
        addressed.sort_values("ts", kind="stable"),
        questions[["ts", "topic", "id", "author"]]
        .rename(columns={"id": "question_id", "author": "asker"})
        .sort_values("ts", kind="stable"),
        on="ts",
        by=["topic", "asker"],
        direction="backward",
        tolerance=ADDRESSED_HORIZON,
        allow_exact_matches=False,
    )
    return _links(matched[matched["asker"] != matched["author"]])


def resolve_questions(ds: NDADataset) -> pd.DataFrame:
    """One row per question: who asked, when, and the first answer (NaN/-1 when none)."""
    messages = ds.messages
    questions = messages[messages["message_type"] == "question"]
    frame = pd.DataFrame(
        {
            "question_id": questions["id"].to_numpy(np.int64),
            "ts": questions["ts"].array,
            "asker": questions["author"].to_numpy(np.int64),
            "topic": questions["topic"].to_numpy(np.int64),
            "channel_team": questions["channel_team"].to_numpy(np.int64),
        }
    )
    explicit = ds.answer_links.drop_duplicates()
    linked = explicit["answer_id"].to_numpy(np.int64)
    links = pd.concat(
        [explicit, following_answers(messages, linked), addressed_answers(ds, linked)],
        ignore_index=True,
    )
    answers = links.merge(
        messages[["id", "ts", "author"]].rename(
            columns={"id": "answer_id", "ts": "answered_at", "author": "answerer"}
        ),
        on="answer_id",
    ).merge(frame[["question_id", "ts", "asker"]], on="question_id")
    answers = answers[
        (answers["answerer"] != answers["asker"]) & (answers["answered_at"] >= answers["ts"])
    ]
    first = answers.sort_values(["question_id", "answered_at", "answer_id"]).drop_duplicates(
        "question_id"
    )[["question_id", "answer_id", "answered_at", "answerer"]]
    frame = frame.merge(first, on="question_id", how="left")
    frame["answerer"] = frame["answerer"].fillna(-1).astype(np.int64)
    frame["answer_id"] = frame["answer_id"].fillna(-1).astype(np.int64)
    frame["latency_hours"] = (frame["answered_at"] - frame["ts"]).dt.total_seconds() / 3600.0
    return frame[list(QUESTION_COLUMNS)].sort_values("ts", kind="stable").reset_index(drop=True)
