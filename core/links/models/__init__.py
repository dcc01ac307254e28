"""Trained link models (JSON), written by ``python -m core.links.train``; data, not code."""
