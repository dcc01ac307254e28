"""Reading names, addressing and questions out of chat text, and the pair features."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from core.links.features import COLUMN, pair_grid, word_overlap
from core.links.text import FLAG, analyse, channel_adjacency, channel_pace
from core.links.types import SYSTEM_AUTHOR, ChatMessage

START = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)


def chat(*lines: tuple[str, str], gap_seconds: float = 30.0) -> list[ChatMessage]:
    return [
        ChatMessage(
            id=f"m{number}",
            author=author,
            timestamp=START + dt.timedelta(seconds=gap_seconds * number),
            content=content,
        )
        for number, (author, content) in enumerate(lines)
    ]


def named(messages: list[ChatMessage], names: dict[str, list[str]] | None = None) -> list[dict]:
    """For each message: author id -> strength (3 platform, 2 address, 1 in text)."""
    stream = analyse(messages, names)
    authors = {number: author for author, number in _author_numbers(messages).items()}
    result = []
    for row in range(len(messages)):
        result.append(
            {
                authors[int(author)]: float(strength)
                for author, strength in zip(
                    stream.named[row], stream.naming_strength[row], strict=True
                )
                if author >= 0
            }
        )
    return result


def _author_numbers(messages: list[ChatMessage]) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for message in messages:
        numbers.setdefault(message.author, len(numbers))
    return numbers


def test_discord_addressing_styles_name_the_author() -> None:
    messages = chat(
        ("u-sam", "is the 3.3 V rail stable on the EPS board?"),
        ("u-lee", "sam: try the 3.3 V rail"),
        ("u-lee", "@Sam Okafor check the datasheet"),
        ("u-lee", "Sam, it passed"),
        ("u-sam", "got it, thanks Lee"),
        ("u-lee", "nothing to see here"),
    )
    names = {"u-sam": ["Sam Okafor"], "u-lee": ["Lee Wong"]}
    found = named(messages, names)
    assert found[1] == {"u-sam": 2.0}  # "sam:" addresses
    assert found[2] == {"u-sam": 2.0}  # "@Sam Okafor", two words
    assert found[3] == {"u-sam": 2.0}  # "Sam," addresses
    assert found[4] == {"u-lee": 1.0}  # named in the text
    assert found[5] == {}
    stream = analyse(messages, names)
    assert stream.flags[0, FLAG["question"]] == 1.0
    assert stream.flags[4, FLAG["thanks"]] == 1.0
    assert stream.flags[1, FLAG["addresses_someone"]] == 1.0
    assert stream.flags[4, FLAG["addresses_someone"]] == 0.0


def test_titles_accents_and_irc_nick_variants() -> None:
    messages = chat(
        ("u-rosa", "did the beacon pass?"),
        ("u-zoe", "Rosa, it passed"),
        ("nick_", "zoe: and the antenna?"),
        ("u-rosa", "nick: it deployed"),
        ("u-zoe", "Zoë, yes"),  # the author's own name is not a mention
    )
    names = {"u-rosa": ["Dr. Rosa Mensah"], "u-zoe": ["Zoë Tran"]}
    found = named(messages, names)
    assert found[1] == {"u-rosa": 2.0}
    assert found[2] == {"u-zoe": 2.0}
    assert found[3] == {"nick_": 2.0}  # "nick" reaches "nick_" loosely
    assert found[4] == {}


def test_platform_mentions_and_explicit_replies_count_as_strongest() -> None:
    messages = chat(("a", "question?"), ("b", "answer"), ("c", "more"))
    messages[1] = ChatMessage("m1", "b", messages[1].timestamp, "answer", reply_to="m0")
    messages[2] = ChatMessage("m2", "c", messages[2].timestamp, "more", mentions=("b", "a"))
    found = named(messages)
    assert found[1] == {"a": 3.0}
    assert found[2] == {"a": 3.0, "b": 3.0}


def test_system_lines_name_nobody() -> None:
    messages = chat((SYSTEM_AUTHOR, "=== sam has joined #ubuntu"), ("lee", "sam: welcome"))
    stream = analyse(messages)
    assert stream.is_system.tolist() == [True, False]
    assert named(messages)[0] == {}


def test_pace_is_the_median_recent_gap_with_a_floor() -> None:
    seconds = np.array([0.0, 600.0, 1200.0, 1800.0, 2400.0, 2410.0])
    pace = channel_pace(seconds)
    assert pace.shape == seconds.shape
    assert pace[4] == pytest.approx(600.0)
    assert channel_pace(np.array([0.0, 1.0, 2.0])).tolist() == [30.0, 30.0, 30.0]
    assert channel_pace(np.zeros(0)).shape == (0,)


def test_adjacency_is_the_smoothed_share_of_adjacent_addressed_replies() -> None:
    addressed = np.array([0, 1, 1, 1, 0], dtype=np.float32)
    adjacent = np.array([0, 1, 1, 0, 0], dtype=np.float32)
    shares = channel_adjacency(addressed, adjacent)
    assert shares[0] == pytest.approx(1 / 4)  # nothing seen yet: the prior
    assert shares[4] == pytest.approx((2 + 1) / (3 + 4))


def _random_stream(seed: int, size: int) -> list[ChatMessage]:
    generator = random.Random(seed)
    authors = ["ana", "ben", "cai", "dee", "eli"]
    words = ["rail", "eps", "radio", "antenna", "firmware", "test", "board", "why", "ok"]
    messages = []
    for number in range(size):
        text = " ".join(generator.choice(words) for _ in range(generator.randint(1, 6)))
        if generator.random() < 0.4:
            text = f"{generator.choice(authors)}: {text}"
        if generator.random() < 0.3:
            text += "?"
        messages.append(
            ChatMessage(
                f"m{number}",
                generator.choice(authors),
                START + dt.timedelta(seconds=20 * number),
                text,
            )
        )
    return messages


def test_vectorised_pair_features_match_a_direct_count() -> None:
    messages = _random_stream(seed=7, size=160)
    stream = analyse(messages)
    window = 25
    start, stop = 60, 160
    grid = pair_grid(stream, start, stop, window, word_overlap(stream, window, start, stop), None)
    authors = stream.author
    for row in range(stop - start):
        i = start + row
        for offset in range(1, window + 1):
            j = i - offset
            between = range(j + 1, i)
            own = sum(authors[k] == authors[i] for k in between)
            theirs = sum(authors[k] == authors[j] for k in between)
            named_i = [stream.named[k][stream.named[k] >= 0].tolist() for k in between]
            namings = sum(int(authors[i]) in names for names in named_i)
            words_i = set(_words(messages[i].content))
            shared = len(words_i & set(_words(messages[j].content)))
            values = grid.values[:, row, offset]
            assert values[COLUMN["log_message_author_posts_between"]] == pytest.approx(
                np.log1p(own)
            )
            assert values[COLUMN["log_candidate_author_posts_between"]] == pytest.approx(
                np.log1p(theirs)
            )
            assert values[COLUMN["log_namings_of_message_author_between"]] == pytest.approx(
                np.log1p(namings)
            )
            assert values[COLUMN["shared_words"]] == shared
            assert values[COLUMN["same_author"]] == float(authors[i] == authors[j])
        assert grid.values[COLUMN["is_self"], row, 0] == 1.0


def _words(text: str) -> list[str]:
    from core.links.text import words_of

    return list(words_of(text))
