"""End to end on simulated Discord exports: planted replies written without the reply button.

The simulator writes DiscordChatExporter files and, in ``manifest.json``, which message each
inferred-only reply answers ("@talia ...", "Kofi: ...", "thanks Jonah", or an answer that
just follows the question). The files go through the DCE reader into chat streams, as
imports do, and the links must recover at least 90% of those replies.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.imports.dce import dce_files, read_dce_file
from core.links import infer_links
from core.links.records import author_names, chat_stream
from core.simulate import SimulationConfig, simulate

REQUIRED_RECOVERY = 0.90


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("simulated")
    simulate(SimulationConfig(seed=1, universities=2, weeks=4), out)
    return out


def roster_names(out: Path) -> dict[str, list[str]]:
    """Display names and handles by Discord user id, as the roster records them."""
    with (out / "roster.csv").open(encoding="utf-8") as handle:
        return {
            row["discord_user_id"]: [row["display_name"], row["discord_username"]]
            for row in csv.DictReader(handle)
            if row["discord_user_id"]
        }


def recovered_share(out: Path, mode: str, limit_files: int | None = None) -> tuple[float, int]:
    planted: dict[str, str] = json.loads((out / "manifest.json").read_text())["inferred_replies"]
    roster = roster_names(out)
    hits = checked = 0
    for path in dce_files([out / "discord"])[:limit_files]:
        result, records_iter = read_dce_file(path)
        records = list(records_iter)
        assert result.truncated_at is None
        names = author_names(records)
        for author, extra in roster.items():
            names.setdefault(author, []).extend(extra)
        for link in infer_links(chat_stream(records), mode=mode, author_names=names):  # type: ignore[arg-type]
            answered = planted.get(link.message_id)
            if answered is not None:
                checked += 1
                hits += answered in link.links_to
    return hits / max(checked, 1), checked


def test_fast_links_recover_the_planted_inferred_replies(simulated: Path) -> None:
    share, checked = recovered_share(simulated, "fast")
    planted = json.loads((simulated / "manifest.json").read_text())["inferred_replies"]
    assert checked == len(planted) > 100
    assert share >= REQUIRED_RECOVERY


def test_accurate_links_recover_the_planted_inferred_replies(simulated: Path) -> None:
    # The accurate mode embeds every message; a quarter of the files keeps the test quick.
    files = len(dce_files([simulated / "discord"]))
    share, checked = recovered_share(simulated, "accurate", limit_files=files // 4)
    assert checked > 50
    assert share >= REQUIRED_RECOVERY
