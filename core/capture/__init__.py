"""Capture: the plain records that live capture and history imports share, and their pipeline."""
