"""FRAMES core: settings, database, capture, analysis. Never imports discord or aiohttp."""
