"""Project-management tools: connectors, normalisation, webhooks and scheduled polling.

Five tools (GitHub, Jira Cloud, Asana, Trello, Monday.com) sit behind one protocol
(:mod:`core.pm.protocol`); each turns vendor payloads into the same plain records
(:mod:`core.pm.records`), and :mod:`core.pm.ingest` stores them idempotently, whether they
came from a poll or a webhook. See docs/pm.md.
"""
