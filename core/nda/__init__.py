"""NDA diagnostics: the six dimensions of a nearly decomposable program, measured from data.

The pure parts (graph building, network measures, lifecycle, energy loss, dimensions) take
an in-memory :class:`core.nda.dataset.NDADataset` and never touch the database or the event
loop; :mod:`core.nda.service` loads data, runs them in a process pool and stores results.
docs/nda.md documents every formula.
"""

from __future__ import annotations

# Bump when a formula changes: stored results carry it, and a new version recomputes all weeks.
ENGINE_VERSION = "nda-1.0"

DIMENSIONS = (
    "actor_autonomy",
    "partitioned_knowledge",
    "emergent_outputs",
    "temporal_misalignment",
    "integration_cost",
    "coupling_degradation",
)
# Energy loss is stored beside the dimensions in nda_reports, under this name.
ENERGY_LOSS = "energy_loss"
