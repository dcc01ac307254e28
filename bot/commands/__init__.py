"""Subcommands of ``frames``, one module per command group."""
