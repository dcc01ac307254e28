"""What the link model reads in a message's text: names, addressing, questions, words.

Everything here runs once per message (never per candidate pair), in plain Python, and
produces small integer arrays that ``features`` combines with numpy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

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
    if decomposed.isascii():
        return decomposed  # nothing combining left to drop
    return "".join([ch for ch in decomposed if not unicodedata.combining(ch)])


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
        forms = _name_forms(name, first_word_alias)
        for key in forms.exact:
            self.exact.setdefault(key, set()).add(author)
        for key in forms.loose:
            self.loose.setdefault(key, set()).add(author)
        self.words.update(forms.words)
        self.multi_word_starts.update(forms.multi_word_starts)
        self.longest_words = min(_MAX_NAME_WORDS, max(self.longest_words, forms.longest_words))

    def lookup(self, phrase: str) -> set[int] | None:
        found = self.exact.get(phrase)
        if found is not None or " " in phrase:
            return found
        # A word of plain letters is its own loose form.
        loose = phrase if phrase.isalpha() else _loose(phrase)
        return self.loose.get(loose) if len(loose) >= 3 else None


@dataclass(frozen=True, slots=True)
class _NameForms:
    """What one name adds to a ``NameIndex``, worked out once per distinct name."""

    exact: tuple[str, ...] = ()
    loose: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    multi_word_starts: tuple[str, ...] = ()
    longest_words: int = 1


@lru_cache(maxsize=65_536)
def _name_forms(name: str, first_word_alias: bool) -> _NameForms:
    key = fold(name.strip()).lstrip("@")
    if not key or key == SYSTEM_AUTHOR:
        return _NameForms()
    words = key.split()
    inner = _NameForms()
    if len(words) > 1 and words[0].rstrip(".") in _TITLES:
        # "Dr. Rosa Mensah" is also "Rosa Mensah", and so "rosa".
        inner = _name_forms(" ".join(words[1:]), first_word_alias)
    exact = [*inner.exact, key]
    loose_keys = list(inner.loose)
    found_words = [*inner.words, words[0]]
    starts = list(inner.multi_word_starts)
    if len(words) > 1:
        starts.append(words[0])
    loose = _loose(key.replace(" ", ""))
    if len(loose) >= 3:
        loose_keys.append(loose)
        found_words.append(loose)
    if first_word_alias and len(words) > 1 and len(words[0]) >= 3:
        # People address "Sam Lee" as "sam".
        exact.append(words[0])
    return _NameForms(
        tuple(exact),
        tuple(loose_keys),
        tuple(found_words),
        tuple(starts),
        max(inner.longest_words, len(words)),
    )


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
    """Per-message facts of one or more streams, as arrays aligned with the messages.

    Several streams (channels) can be analysed together, one after another: each message
    then only ever meets messages of its own stream (``segment_start``..``segment_stop``),
    and every fact is what analysing its stream alone gives.
    """

    author: np.ndarray  # int32 author number (numbers are never shared between streams)
    seconds: np.ndarray  # float64 seconds since the first message of the stream
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
    idf: np.ndarray  # float32 per word number: log((n + 1) / (df + 1)) within its stream
    segment_start: np.ndarray  # int64: the first message of each message's stream
    segment_stop: np.ndarray  # int64: one past the last message of each message's stream
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


@dataclass(slots=True)  # one per message: not frozen, see MessageRecord
class TextFacts:
    """What a message's text says, whichever stream it is read in: worked out once per
    message, so a stream's recent messages need not be read again for each new batch."""

    tokens: tuple[str, ...]  # folded, at most _MAX_SCANNED_TOKENS
    bare: tuple[str, ...]  # the tokens without edge punctuation
    words: tuple[str, ...]  # distinct content words
    question: float
    thanks: float
    has_url: float


_NO_TEXT = TextFacts((), (), (), 0.0, 0.0, 0.0)


def read_text(message: ChatMessage) -> TextFacts:
    """The stream-independent part of ``analyse`` for one message."""
    if message.author == SYSTEM_AUTHOR:
        return _NO_TEXT
    content = message.content
    text = content.lower() if content.isascii() else fold(content)
    tokens = text.split(maxsplit=_MAX_SCANNED_TOKENS)[:_MAX_SCANNED_TOKENS]
    all_words = _WORD.findall(text)
    # In order of first use, not a set's order: word numbers, and with them the order in
    # which IDF is summed, must not depend on the process's string hash seed.
    words = dict.fromkeys([word for word in all_words if word not in STOPWORDS])
    return TextFacts(
        tuple(tokens),
        tuple([token.strip(_EDGE_PUNCTUATION) for token in tokens]),
        tuple(words),
        float("?" in text),
        float(not _THANKS.isdisjoint(all_words)),
        float(_URL.search(text) is not None),
    )


def analyse(
    messages: Sequence[ChatMessage], author_names: Mapping[str, Sequence[str]] | None = None
) -> AnalysedStream:
    """Read each message once: who it names and how, its flags and its content words."""
    return analyse_streams([(messages, None)], author_names)


def analyse_streams(
    streams: Sequence[tuple[Sequence[ChatMessage], Sequence[TextFacts] | None]],
    author_names: Mapping[str, Sequence[str]] | None = None,
) -> AnalysedStream:
    """``analyse`` of several streams at once, concatenated in the given order.

    Each stream comes with its messages' ``read_text`` facts when they are already known
    (``None`` reads them here).
    """
    reader = _StreamReader(sum(len(messages) for messages, _ in streams))
    for messages, texts in streams:
        reader.read(messages, texts or [read_text(m) for m in messages], author_names)
    return reader.analysed()


# The flags ``_StreamReader`` works out message by message, in MESSAGE_FLAGS order.
_TEXT_FLAGS = MESSAGE_FLAGS[: MESSAGE_FLAGS.index("log_chars")]
_NO_FLAGS = (0.0,) * len(_TEXT_FLAGS)


class _StreamReader:
    """Fills the arrays of an ``AnalysedStream`` one stream after another.

    While a stream is read, its authors have the stream's own numbers (0, 1, ... in order
    of appearance), so that it reads exactly as it would alone; they are shifted past the
    earlier streams' authors when stored. Words are numbered per stream the same way.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.author = np.empty(n, dtype=np.int32)
        self.previous_post = np.full(n, -1, dtype=np.int64)
        self.next_post = np.full(n, n, dtype=np.int64)
        self.seconds = np.empty(n, dtype=np.float64)
        self.is_system = np.zeros(n, dtype=bool)
        self.segment_start = np.empty(n, dtype=np.int64)
        self.segment_stop = np.empty(n, dtype=np.int64)
        self.lengths = np.empty(n, dtype=np.float64)
        self.named = np.full((n, NAME_SLOTS), -1, dtype=np.int32)
        self.naming_strength = np.zeros((n, NAME_SLOTS), dtype=np.float32)
        self.addressed = np.zeros(n, dtype=np.float32)
        self.addressed_adjacent = np.zeros(n, dtype=np.float32)
        self.text_flags: list[tuple[float, ...]] = []
        self.word_count: list[int] = []
        self.word_msg: list[int] = []
        self.word_id: list[np.ndarray] = []
        self.idf: list[np.ndarray] = []
        self.base = 0  # position of the stream being read
        self.first_author = 0
        self.first_word = 0

    def read(
        self,
        messages: Sequence[ChatMessage],
        texts: Sequence[TextFacts],
        author_names: Mapping[str, Sequence[str]] | None,
    ) -> None:
        base, stop = self.base, self.base + len(messages)
        self.segment_start[base:stop] = base
        self.segment_stop[base:stop] = stop
        if messages:
            start = messages[0].timestamp
            self.seconds[base:stop] = [(m.timestamp - start).total_seconds() for m in messages]
            self.lengths[base:stop] = [len(m.content) for m in messages]
            authors = self._read_names(messages, texts, author_names)
            self._read_words(texts)
            self.first_author += authors
        self.base = stop

    def _read_names(
        self,
        messages: Sequence[ChatMessage],
        texts: Sequence[TextFacts],
        author_names: Mapping[str, Sequence[str]] | None,
    ) -> int:
        """Authors, who each message names and how, and the text flags; the author count."""
        base, first_author = self.base, self.first_author
        author_ids: dict[str, int] = {}
        local_author: list[int] = []
        last_post: dict[int, int] = {}
        for position, message in enumerate(messages, start=base):
            number = author_ids.setdefault(message.author, len(author_ids))
            local_author.append(number)
            before = last_post.get(number)
            if before is not None:
                self.previous_post[position] = before
                self.next_post[before] = position
            last_post[number] = position
        self.author[base : base + len(messages)] = local_author
        self.author[base : base + len(messages)] += first_author
        names = build_name_index(author_ids, author_names)
        id_position = {message.id: position for position, message in enumerate(messages)}
        latest_post: dict[int, int] = {}
        system = author_ids.get(SYSTEM_AUTHOR)
        addressed, addressed_adjacent = self.addressed, self.addressed_adjacent

        for position, message in enumerate(messages):
            at = base + position
            own = local_author[position]
            facts = texts[position]
            found: dict[int, int] = {}
            for mentioned in message.mentions:
                mentioned_number = author_ids.get(mentioned)
                if mentioned_number is not None and mentioned_number != own:
                    found[mentioned_number] = MENTION_PLATFORM
            if message.reply_to is not None:
                # An explicit reply names the author it answers, as strongly as a mention.
                target = id_position.get(message.reply_to)
                if target is not None and local_author[target] != own:
                    found[local_author[target]] = MENTION_PLATFORM
                    addressed[at] = 1.0
                    addressed_adjacent[at] = float(target == position - 1)
            if own == system:
                self.is_system[at] = True
                self.text_flags.append(_NO_FLAGS)
            else:
                address_width = _find_names(facts.tokens, facts.bare, names, own, found)
                # The opening word after any leading "name:" is what asks, greets or answers.
                first = facts.bare[address_width] if address_width < len(facts.bare) else ""
                self.text_flags.append(
                    (
                        facts.question,
                        float(first in _QUESTION_OPENERS),
                        float(first in _GREETINGS),
                        facts.thanks,
                        float(first in _ANSWER_OPENERS),
                        facts.has_url,
                    )
                )
            if found:
                strongest = sorted(found.items(), key=lambda item: item[1])[:NAME_SLOTS]
                for slot, (number, kind) in enumerate(strongest):
                    self.named[at, slot] = number + first_author
                    self.naming_strength[at, slot] = 3 - kind
                addressee, kind = strongest[0]
                if kind <= MENTION_ADDRESS and addressee in latest_post and not addressed[at]:
                    addressed[at] = 1.0
                    addressed_adjacent[at] = float(latest_post[addressee] == position - 1)
            latest_post[own] = position
        return len(author_ids)

    def _read_words(self, texts: Sequence[TextFacts]) -> None:
        vocabulary: dict[str, int] = {}
        local_ids: list[int] = []
        for position, facts in enumerate(texts, start=self.base):
            self.word_count.append(min(len(facts.words), 30))
            for word in facts.words:
                self.word_msg.append(position)
                local_ids.append(vocabulary.setdefault(word, len(vocabulary)))
        if vocabulary:
            # IDF from the stream itself: how rare each word is in this channel.
            local = np.asarray(local_ids, dtype=np.int64)
            document_frequency = np.bincount(local)
            count = len(texts)
            self.idf.append(np.log((count + 1) / (document_frequency + 1)).astype(np.float32))
            self.word_id.append(local + self.first_word)
        self.first_word += len(vocabulary)

    def analysed(self) -> AnalysedStream:
        flags = np.zeros((self.n, len(MESSAGE_FLAGS)), dtype=np.float32)
        if self.n:
            flags[:, : len(_TEXT_FLAGS)] = self.text_flags
            flags[:, FLAG["log_chars"]] = np.log1p(self.lengths)
            flags[:, FLAG["words"]] = self.word_count
        flags[:, FLAG["addresses_someone"]] = self.naming_strength[:, 0] >= 3 - MENTION_ADDRESS
        flags[:, FLAG["names_anyone"]] = self.named[:, 0] >= 0
        return AnalysedStream(
            author=self.author,
            seconds=self.seconds,
            pace=channel_pace(self.seconds, self.segment_start),
            adjacency=channel_adjacency(
                self.addressed, self.addressed_adjacent, self.segment_start
            ),
            is_system=self.is_system,
            flags=flags,
            named=self.named,
            naming_strength=self.naming_strength,
            previous_post=self.previous_post,
            next_post=self.next_post,
            word_msg=np.asarray(self.word_msg, dtype=np.int64),
            word_id=np.concatenate(self.word_id) if self.word_id else np.zeros(0, np.int64),
            idf=np.concatenate(self.idf) if self.idf else np.zeros(0, dtype=np.float32),
            segment_start=self.segment_start,
            segment_stop=self.segment_stop,
            n_authors=self.first_author,
        )


def channel_pace(seconds: np.ndarray, segment_start: np.ndarray | None = None) -> np.ndarray:
    """Median of the gaps between the previous ``PACE_MESSAGES`` messages, at least 30 s.

    The floor matters for logs with minute resolution, where most gaps read as 0. With
    ``segment_start`` (the first message of each message's stream), each stream is paced
    on its own.
    """
    n = len(seconds)
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    starts = np.zeros(n, dtype=np.int64) if segment_start is None else segment_start
    position = np.arange(n)
    gaps = np.maximum(np.diff(seconds, prepend=seconds[:1]), 0.0)
    gaps[position == starts] = 0.0  # a stream's first message has no gap before it
    # Before a stream's start, its first real gap stands in (0 for a single message).
    second = np.minimum(starts + 1, n - 1)
    pad = np.where((starts + 1 < n) & (starts[second] == starts), gaps[second], 0.0)
    back = position[:, None] - np.arange(PACE_MESSAGES, 0, -1)[None, :]  # oldest first
    windows = np.where(back < starts[:, None], pad[:, None], gaps[np.maximum(back, 0)])
    return np.maximum(np.median(windows, axis=1), PACE_FLOOR_SECONDS)


def channel_adjacency(
    addressed: np.ndarray, adjacent: np.ndarray, segment_start: np.ndarray | None = None
) -> np.ndarray:
    """Share of recent addressed replies that answer the message just before them.

    A reply that names its addressee (or uses the reply feature) shows where replies land
    in this channel: right after the message answered in a slow channel with one topic at a
    time, further back in a busy one. Messages that name nobody are then read in that
    light. Smoothed towards 1/4 with a weight of four replies; over the previous
    ``ADJACENCY_MESSAGES`` messages of the same stream.
    """
    replies = np.concatenate([[0.0], np.cumsum(addressed, dtype=np.float64)])
    adjacent_replies = np.concatenate([[0.0], np.cumsum(adjacent, dtype=np.float64)])
    position = np.arange(len(addressed))
    first = 0 if segment_start is None else segment_start
    start = np.maximum(position - ADJACENCY_MESSAGES, first)
    count = replies[position] - replies[start]
    hits = adjacent_replies[position] - adjacent_replies[start]
    return ((hits + 1.0) / (count + 4.0)).astype(np.float32)


def _find_names(
    tokens: Sequence[str], bare: Sequence[str], names: NameIndex, own: int, found: dict[int, int]
) -> int:
    """Record the authors named in folded tokens; return how many leading tokens address.

    ``bare`` holds the tokens without edge punctuation.
    """
    if not tokens:
        return 0
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


def words_of(text: str) -> Iterable[str]:
    """Content words of a text, as the lexical features see them."""
    return (word for word in _WORD.findall(fold(text)) if word not in STOPWORDS)
