"""Consent at the door: whether a message's content may be stored, decided before writing."""

from __future__ import annotations

DEFAULT_MODE = "opt-in"  # one of core.db.models.organisation.CONSENT_MODES


def content_allowed(mode: str | None, consent: str | None) -> bool:
    """``consent`` is the author's current state: ``granted``, ``withdrawn`` or None (unknown).

    - opt-in (the default): only people who consented;
    - opt-out: everyone except people who withdrew;
    - metadata-only: nobody.
    An unknown university (no mapping, unknown author) gets the default, opt-in.
    """
    mode = mode or DEFAULT_MODE
    if mode == "metadata-only":
        return False
    if mode == "opt-out":
        return consent != "withdrawn"
    return consent == "granted"
