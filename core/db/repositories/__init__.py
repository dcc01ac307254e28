"""Typed repositories: the only place that writes SQL (through SQLAlchemy)."""
