"""Discord cogs: one extension package per user-facing feature; thin: parse, call, render."""
