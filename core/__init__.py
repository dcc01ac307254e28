"""FRAMES core: settings, database, capture pipeline, analysis. Imports nothing of discord or aiohttp."""
