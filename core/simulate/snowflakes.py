"""Discord snowflakes: ids that encode their creation time.

``((unix_ms - DISCORD_EPOCH_MS) << 22) | low``. The simulator gives every stream of ids its
own ``low`` bits, so ids are unique overall and increase with time within a stream:

- bits 13..20: channel index; bits 0..12: 0 for the channel, 1..8191 for its threads;
- bit 21 set: attachment ids of that stream;
- accounts, guilds and channels are created before the simulated window, with their own
  low bits, so they can never equal a message id.
"""

from __future__ import annotations

DISCORD_EPOCH_MS = 1_420_070_400_000
MAX_THREADS_PER_CHANNEL = (1 << 13) - 1
ATTACHMENT_BIT = 1 << 21


def snowflake(unix_ms: int, low: int) -> int:
    return ((unix_ms - DISCORD_EPOCH_MS) << 22) | low


def stream_bits(channel_index: int, thread_number: int = 0) -> int:
    return (channel_index << 13) | thread_number


def snowflake_ms(value: int) -> int:
    return (value >> 22) + DISCORD_EPOCH_MS
