"""The program simulator: a synthetic consortium with its Discord history and task tools.

``simulate(config, out_dir)`` writes a roster, terms, channel mappings, outcomes,
DiscordChatExporter JSON per channel and thread, project-tool tasks and a manifest with
the ground truth (planted failures, replies made without the reply feature, deleted
messages). The same seed and config give byte-identical files. See docs/simulator.md.
"""

from core.simulate.behaviour import DIMENSIONS
from core.simulate.config import SimulationConfig, SimulationSummary
from core.simulate.runner import (
    clear_output,
    planned_messages,
    planted_failures,
    simulate,
)

__all__ = [
    "DIMENSIONS",
    "SimulationConfig",
    "SimulationSummary",
    "clear_output",
    "planned_messages",
    "planted_failures",
    "simulate",
]
