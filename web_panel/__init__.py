"""The researchers' aiohttp web panel and the project tools' webhook receivers."""
