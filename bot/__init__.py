"""The composition root: the Discord bot, process start-up and the ``frames`` CLI."""
