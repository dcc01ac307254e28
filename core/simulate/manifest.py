"""``manifest.json``: what was generated, from what, and the ground truth behind it.

It is written last and streamed, because ``inferred_replies`` grows with the message
count (about one entry in six messages).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable
from pathlib import Path

from core.simulate.config import GENERATOR, SimulationConfig
from core.simulate.dce_writer import FileRecord

MANIFEST = "manifest.json"


def _pairs(chunks: Iterable[array[int]]) -> Iterable[tuple[int, int]]:
    for chunk in chunks:
        for position in range(0, len(chunk), 2):
            yield chunk[position], chunk[position + 1]


def write_manifest(
    out_dir: Path,
    config: SimulationConfig,
    *,
    counts: dict[str, int],
    files: list[FileRecord],
    planted: list[dict[str, str]],
    inferred: list[array[int]],
    explicit_replies: int,
    deleted: list[array[int]],
) -> None:
    def field(name: str, value: object) -> str:
        body = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        return f"  {json.dumps(name)}: {body}"

    head = ",\n".join(
        [
            field("seed", config.seed),
            field(
                "config",
                {
                    "universities": config.universities,
                    "weeks": config.weeks,
                    "messages": config.messages,
                    "start": config.start.isoformat(),
                },
            ),
            field("generator", GENERATOR),
            field("counts", counts),
            field(
                "files",
                [
                    {"path": f.path, "sha256": f.sha256, "bytes": f.size}
                    for f in sorted(files, key=lambda f: f.path)
                ],
            ),
            field("planted_failures", planted),
        ]
    )
    with open(out_dir / MANIFEST, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("{\n" + head + ',\n  "inferred_replies": {')
        separator = "\n"
        buffer: list[str] = []
        for reply, answered in _pairs(inferred):
            buffer.append(f'{separator}    "{reply}": "{answered}"')
            separator = ",\n"
            if len(buffer) >= 4096:
                handle.write("".join(buffer))
                buffer.clear()
        handle.write("".join(buffer) + ("\n  }" if separator == ",\n" else "}"))
        handle.write(f',\n  "explicit_replies": {explicit_replies},\n  "deleted_messages": [')
        ids = [f'    "{message_id}"' for chunk in deleted for message_id in chunk]
        handle.write(("\n" + ",\n".join(ids) + "\n  ]") if ids else "]")
        handle.write("\n}\n")
