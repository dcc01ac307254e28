"""A Discord test server for the real discord.py client (see
../shared/design/discord-test-server.md): gateway and REST on 127.0.0.1, scripted users,
fault injection and a record of every request."""

from tests.fakes.discord_server.server import DiscordTestServer, Guild, RecordedRequest
from tests.fakes.discord_server.snowflakes import Snowflakes, snowflake_time

__all__ = ["DiscordTestServer", "Guild", "RecordedRequest", "Snowflakes", "snowflake_time"]
