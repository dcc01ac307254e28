"""What the link model reads in a message's text: names, addressing, questions, words.

Everything here runs once per message (never per candidate pair), in plain Python, and
produces small integer arrays that ``features`` combines with numpy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.links.types import SYSTEM_AUTHOR, ChatMessage

# How a message names an author, strongest first. A platform mention or a name at the
# start ("sam: try...", "@sam", "sam, try...") addresses the person; a name elsewhere
# ("thanks sam") refers to them.
MENTION_PLATFORM = 0
MENTION_ADDRESS = 1
MENTION_TEXT = 2

_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D"})
_EDGE_PUNCTUATION = "\"'()<>,.;:!?*~@"
_WORD = re.compile(r"[a-z0-9][a-z0-9_'\-\.]*[a-z0-9]|[a-z0-9]")
_URL = re.compile(r"https?://|www\.")
_MAX_NAME_WORDS = 3
_MAX_SCANNED_TOKENS = 80  # a pasted log can be long; names that matter come early


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no topic; overlap on them says nothing about a reply.
STOPWORDS = _words(
    """a about after again all also am an and any anyone anybody are as at be because been
    but by can cant could did do does doesnt dont for from get got had has have having he her
    here hi hello hey him his how i id if im in into is isnt it its ive just know like lol me
    might more my no not now of ok okay on one or our out so some someone something than thanks
    thank thx that thats the their them then there these they this to too try u ur use using
    very want was way we well were what whats when where which while who why will with would
    yeah yes yep you your youre"""
)
_TITLES = _words("dr prof professor doctor mr mrs ms mx sir")
_GREETINGS = _words("hi hello hey hiya howdy morning evening greetings yo sup")
_THANKS = _words("thank thanks thankyou thx ty tyvm cheers appreciate appreciated")
_ANSWER_OPENERS = _words(
    "yes yeah yep yup no nope nah sure maybe probably try use it its thats that you u do"
)
_QUESTION_OPENERS = _words(
    "how what why where when who which can could does do did is are should would will anyone "
    "anybody has have any"
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: ``Zoë`` and ``zoe`` are the same name."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_NOT_ALNUM = re.compile(r"[\W_]+")


def _loose(name: str) -> str:
    """``nick_``, ``Nick|away`` and ``nick2`` all reach ``nick``."""
    letters = _NOT_ALNUM.sub("", name)
    return letters.rstrip("0123456789") or letters


@dataclass
class NameIndex:
    """Maps what people write (nicknames, display names, first names) to author numbers."""

    exact: dict[str, set[int]] = field(default_factory=dict)
    loose: dict[str, set[int]] = field(default_factory=dict)
    multi_word_starts: set[str] = field(default_factory=set)  # first words of longer names
    words: set[str] = field(default_factory=set)  # any word that may start a name
    longest_words: int = 1

    def add(self, author: int, name: str, *, first_word_alias: bool = True) -> None:
        key = fold(name.strip()).lstrip("@")
        if not key or key == SYSTEM_AUTHOR:
            return
        words = key.split()
        if len(words) > 1 and words[0].rstrip(".") in _TITLES:
            # "Dr. Rosa Mensah" is also "Rosa Mensah", and so "rosa".
            self.add(author, " ".join(words[1:]), first_word_alias=first_word_alias)
        words = key.split()
        self.words.add(words[0])
        if len(words) > 1:
            self.multi_word_starts.add(words[0])
        self.longest_words = min(_MAX_NAME_WORDS, max(self.longest_words, len(words)))
        self.exact.setdefault(key, set()).add(author)
        loose = _loose(key.replace(" ", ""))
        if len(loose) >= 3:
            self.loose.setdefault(loose, set()).add(author)
            self.words.add(loose)
        if first_word_alias and len(words) > 1 and len(words[0]) >= 3:
            # People address "Sam Lee" as "sam".
            self.exact.setdefault(words[0], set()).add(author)

    def lookup(self, phrase: str) -> set[int] | None:
        found = self.exact.get(phrase)
        if found is not None or " " in phrase:
            return found
        # A word of plain letters is its own loose form.
        loose = phrase if phrase.isalpha() else _loose(phrase)
        return self.loose.get(loose) if len(loose) >= 3 else None


def build_name_index(
    author_ids: Mapping[str, int], author_names: Mapping[str, Sequence[str]] | None
) -> NameIndex:
    index = NameIndex()
    for author, number in author_ids.items():
        if author == SYSTEM_AUTHOR:
            continue
        index.add(number, author)
        for name in (author_names or {}).get(author, ()):
            index.add(number, name)
    return index


NAME_SLOTS = 4  # authors remembered per message; the strongest namings are kept
PACE_MESSAGES = 10  # recent gaps that set a channel's pace
PACE_FLOOR_SECONDS = 30.0
ADJACENCY_MESSAGES = 50  # recent messages whose addressed replies show the channel's habit


@dataclass
class AnalysedStream:
    """Per-message facts of a stream, as arrays aligned with the messages."""

    author: np.ndarray  # int32 author number
    seconds: np.ndarray  # float64 seconds since the first message
    pace: np.ndarray  # float64 typical gap between messages around each one (seconds)
    adjacency: np.ndarray  # float32 how often recent addressed replies answer the last message
    is_system: np.ndarray  # bool
    flags: np.ndarray  # float32 (n, len(MESSAGE_FLAGS)) per-message text flags
    named: np.ndarray  # int32 (n, NAME_SLOTS): authors the message names, -1 for none
    naming_strength: np.ndarray  # float32 (n, NAME_SLOTS): 3 platform, 2 address, 1 text
    previous_post: np.ndarray  # int64: the author's previous message, -1 if none
    next_post: np.ndarray  # int64: the author's next message, n if none
    word_msg: np.ndarray  # int64: message containing a content word
    word_id: np.ndarray  # int64: the word's number (one entry per distinct word per message)
    n_authors: int

    def __len__(self) -> int:
        return len(self.author)


MESSAGE_FLAGS = (
    "question",  # contains "?"
    "question_opener",  # starts with how/what/why/can/anyone...
    "greeting",  # starts with hi/hello/hey
    "thanks",  # says thanks
    "answer_opener",  # starts with yes/no/try/you...
    "has_url",
    "log_chars",  # log(1 + characters)
    "words",  # content words (capped at 30)
    "addresses_someone",  # names an author at its start
    "names_anyone",  # names any author
)
FLAG = {name: column for column, name in enumerate(MESSAGE_FLAGS)}


def analyse(
    messages: Sequence[ChatMessage], author_names: Mapping[str, Sequence[str]] | None = None
) -> AnalysedStream:
    """Read each message once: who it names and how, its flags and its content words."""
    n = len(messages)
    author_ids: dict[str, int] = {}
    author = np.empty(n, dtype=np.int32)
    previous_post = np.full(n, -1, dtype=np.int64)
    next_post = np.full(n, n, dtype=np.int64)
    last_post: dict[int, int] = {}
    for position, message in enumerate(messages):
        number = author_ids.setdefault(message.author, len(author_ids))
        author[position] = number
        before = last_post.get(number)
        if before is not None:
            previous_post[position] = before
            next_post[before] = position
        last_post[number] = position
    names = build_name_index(author_ids, author_names)
    id_position = {message.id: position for position, message in enumerate(messages)}

    start = messages[0].timestamp if messages else None
    seconds = np.fromiter(
        ((message.timestamp - start).total_seconds() for message in messages) if start else (),
        dtype=np.float64,
        count=n,
    )
    is_system = np.fromiter((m.author == SYSTEM_AUTHOR for m in messages), dtype=bool, count=n)
    flags = np.zeros((n, len(MESSAGE_FLAGS)), dtype=np.float32)
    named = np.full((n, NAME_SLOTS), -1, dtype=np.int32)
    naming_strength = np.zeros((n, NAME_SLOTS), dtype=np.float32)
    word_msg: list[int] = []
    word_id: list[int] = []
    vocabulary: dict[str, int] = {}
    latest_post: dict[int, int] = {}
    addressed_adjacent = np.zeros(n, dtype=np.float32)
    addressed = np.zeros(n, dtype=np.float32)

    for position, message in enumerate(messages):
        own = int(author[position])
        row = flags[position]
        found: dict[int, int] = {}
        for mentioned in message.mentions:
            mentioned_number = author_ids.get(mentioned)
            if mentioned_number is not None and mentioned_number != own:
                found[mentioned_number] = MENTION_PLATFORM
        if message.reply_to is not None:
            # An explicit reply names the author it answers, as strongly as a mention.
            target = id_position.get(message.reply_to)
            if target is not None and author[target] != own:
                found[int(author[target])] = MENTION_PLATFORM
                addressed[position] = 1.0
                addressed_adjacent[position] = float(target == position - 1)
        if not is_system[position]:
            content = message.content
            text = content.lower() if content.isascii() else fold(content)
            tokens = text.split(maxsplit=_MAX_SCANNED_TOKENS)[:_MAX_SCANNED_TOKENS]
            address_width = _find_names(tokens, names, own, found)
            all_words = _WORD.findall(text)
            _set_flags(row, text, tokens[address_width:], all_words)
            words = {word for word in all_words if word not in STOPWORDS}
            row[FLAG["words"]] = min(len(words), 30)
            for word in words:
                word_msg.append(position)
                word_id.append(vocabulary.setdefault(word, len(vocabulary)))
        row[FLAG["log_chars"]] = np.log1p(len(message.content))
        if found:
            row[FLAG["names_anyone"]] = 1.0
            row[FLAG["addresses_someone"]] = float(min(found.values()) <= MENTION_ADDRESS)
            strongest = sorted(found.items(), key=lambda item: item[1])[:NAME_SLOTS]
            for slot, (number, kind) in enumerate(strongest):
                named[position, slot] = number
                naming_strength[position, slot] = 3 - kind
            addressee, kind = strongest[0]
            if kind <= MENTION_ADDRESS and addressee in latest_post and not addressed[position]:
                addressed[position] = 1.0
                addressed_adjacent[position] = float(latest_post[addressee] == position - 1)
        latest_post[own] = position

    return AnalysedStream(
        author=author,
        seconds=seconds,
        pace=channel_pace(seconds),
        adjacency=channel_adjacency(addressed, addressed_adjacent),
        is_system=is_system,
        flags=flags,
        named=named,
        naming_strength=naming_strength,
        previous_post=previous_post,
        next_post=next_post,
        word_msg=np.asarray(word_msg, dtype=np.int64),
        word_id=np.asarray(word_id, dtype=np.int64),
        n_authors=len(author_ids),
    )


def channel_pace(seconds: np.ndarray) -> np.ndarray:
    """Median of the gaps between the previous ``PACE_MESSAGES`` messages, at least 30 s.

    The floor matters for logs with minute resolution, where most gaps read as 0.
    """
    if len(seconds) == 0:
        return np.zeros(0, dtype=np.float64)
    gaps = np.maximum(np.diff(seconds, prepend=seconds[:1]), 0.0)
    # Gaps before each message, oldest first; the stream's start repeats the first gap.
    padded = np.concatenate([np.full(PACE_MESSAGES, gaps[1] if len(gaps) > 1 else 0.0), gaps])
    windows = np.lib.stride_tricks.sliding_window_view(padded[:-1], PACE_MESSAGES)
    return np.maximum(np.median(windows, axis=1), PACE_FLOOR_SECONDS)


def channel_adjacency(addressed: np.ndarray, adjacent: np.ndarray) -> np.ndarray:
    """Share of recent addressed replies that answer the message just before them.

    A reply that names its addressee (or uses the reply feature) shows where replies land
    in this channel: right after the message answered in a slow channel with one topic at a
    time, further back in a busy one. Messages that name nobody are then read in that
    light. Smoothed towards 1/4 with a weight of four replies; over the previous
    ``ADJACENCY_MESSAGES`` messages.
    """
    replies = np.concatenate([[0.0], np.cumsum(addressed, dtype=np.float64)])
    adjacent_replies = np.concatenate([[0.0], np.cumsum(adjacent, dtype=np.float64)])
    position = np.arange(len(addressed))
    start = np.maximum(position - ADJACENCY_MESSAGES, 0)
    count = replies[position] - replies[start]
    hits = adjacent_replies[position] - adjacent_replies[start]
    return ((hits + 1.0) / (count + 4.0)).astype(np.float32)


def _find_names(tokens: list[str], names: NameIndex, own: int, found: dict[int, int]) -> int:
    """Record the authors named in folded tokens; return how many leading tokens address."""
    if not tokens:
        return 0
    bare = [token.strip(_EDGE_PUNCTUATION) for token in tokens]
    # Most messages name nobody: a set test in C settles them. Only the first word, where
    # people address someone, is also tried in its loose form ("nick_:" for "nick").
    if names.words.isdisjoint(bare) and not names.lookup(bare[0]):
        return 0
    address_width = 0
    position = 0
    count = len(tokens)
    while position < count:
        word = bare[position]
        if position and word not in names.words:
            position += 1
            continue
        widest = 1
        if word in names.multi_word_starts:
            widest = min(names.longest_words, count - position)
        candidates = None
        width = widest
        while width > 0:
            phrase = " ".join(bare[position : position + width]) if width > 1 else word
            candidates = names.lookup(phrase)
            if candidates:
                break
            width -= 1
        if not candidates:
            position += 1
            continue
        last = tokens[position + width - 1]
        leading = position == 0 and (width == count or last[-1] in ":,")
        at_sign = "@" in tokens[position][:2]
        kind = MENTION_ADDRESS if at_sign or leading else MENTION_TEXT
        if leading:
            address_width = width
        for number in candidates:
            if number != own and found.get(number, MENTION_TEXT + 1) > kind:
                found[number] = kind
        position += width
    return address_width


def _set_flags(row: np.ndarray, text: str, rest: list[str], all_words: list[str]) -> None:
    """Flags of one message; ``rest`` is its tokens after any leading "name:"."""
    first = rest[0].strip(_EDGE_PUNCTUATION) if rest else ""
    row[FLAG["question"]] = float("?" in text)
    row[FLAG["question_opener"]] = float(first in _QUESTION_OPENERS)
    row[FLAG["greeting"]] = float(first in _GREETINGS)
    row[FLAG["thanks"]] = float(any(word in _THANKS for word in all_words))
    row[FLAG["answer_opener"]] = float(first in _ANSWER_OPENERS)
    row[FLAG["has_url"]] = float(_URL.search(text) is not None)


def words_of(text: str) -> Iterable[str]:
    """Content words of a text, as the lexical features see them."""
    return (word for word in _WORD.findall(fold(text)) if word not in STOPWORDS)
