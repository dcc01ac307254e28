"""Live capture: gateway events → plain ``core`` records → the capture pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.capture._cog import CaptureCog

if TYPE_CHECKING:
    from bot.discord_bot import FramesBot


async def setup(bot: FramesBot) -> None:
    await bot.add_cog(CaptureCog(bot, bot.pipeline))
