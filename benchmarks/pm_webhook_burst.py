"""Webhook burst: how fast queued deliveries are stored, batched per connection vs one by one.

Queues N deliveries (the recorded GitHub ``issue_comment.created`` example, each with its own
comment id) in a private embedded PostgreSQL, then drains the queue twice on identical data:
once storing each delivery with its own ingest (the baseline), once combining each claimed
batch per connection into one ingest (what the panel does). Prints both rates and the ratio.

    .venv/bin/python benchmarks/pm_webhook_burst.py [N]
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.db.embedded import EmbeddedPostgres  # noqa: E402
from core.db.engine import Database, open_database  # noqa: E402
from core.db.repositories.organisation import OrganisationRepository  # noqa: E402
from core.db.repositories.pm import PMRepository  # noqa: E402
from core.pm.config import PMSettings  # noqa: E402
from core.pm.connections import ConnectionRequest, connect  # noqa: E402
from core.pm.secrets import SecretResolver  # noqa: E402
from core.pm.sync import ConnectorPool  # noqa: E402
from core.pm.webhooks import DeliveryProcessor  # noqa: E402
from core.settings import Settings  # noqa: E402

EXAMPLE = (
    ROOT.parent
    / "shared"
    / "data"
    / "github"
    / "webhooks-examples"
    / "issue_comment"
    / "created.1.json"
)
TABLES = "pm_tasks, pm_task_events, pm_interfaces, pm_webhook_deliveries, identities"


async def queue(db: Database, deliveries: int) -> None:
    recorded = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    async with db.transaction() as session:
        repo = PMRepository(session)
        for n in range(deliveries):
            payload = copy.deepcopy(recorded)
            payload["comment"]["id"] += n
            await repo.enqueue_delivery(
                {
                    "connection_id": "gh",
                    "tool": "github",
                    "delivery_id": f"d{n}",
                    "event_type": "issue_comment",
                    "payload": payload,
                }
            )


async def drain(db: Database, settings: PMSettings, *, batched: bool, deliveries: int) -> float:
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    await queue(db, deliveries)
    pool = ConnectorPool(settings, SecretResolver(None))
    processor = DeliveryProcessor(db, pool, settings, batch_ingest=batched)
    started = time.perf_counter()
    handled = await processor.process_pending()
    elapsed = time.perf_counter() - started
    await pool.aclose()
    assert handled == deliveries, handled
    async with db.engine.connect() as connection:
        events = await connection.exec_driver_sql(
            "SELECT count(*) FROM pm_task_events WHERE event_type='commented'"
        )
        assert events.scalar() == deliveries
    return deliveries / elapsed


async def main(deliveries: int) -> None:
    os.environ.setdefault("PM_BENCH_TOKEN", "token")
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        url = server.start()
        try:
            settings = Settings(DATABASE_URL=url)  # type: ignore[call-arg]
            async with open_database(settings, migrate=True) as db:
                async with db.transaction() as session:
                    org = OrganisationRepository(session)
                    await org.upsert_universities([{"id": "u", "name": "U"}])
                    await org.upsert_teams([{"id": "t", "name": "T", "university_id": "u"}])
                    await connect(
                        session,
                        ConnectionRequest(
                            "github",
                            "t",
                            {"repo": "Codertocat/Hello-World"},
                            connection_id="gh",
                            secret_ref="PM_BENCH_TOKEN",
                        ),
                        actor="benchmark",
                    )
                pm = PMSettings(webhook_batch_size=50)
                baseline = await drain(db, pm, batched=False, deliveries=deliveries)
                ours = await drain(db, pm, batched=True, deliveries=deliveries)
        finally:
            server.stop()
    print(f"deliveries: {deliveries} (GitHub issue_comment.created, one connection, batches of 50)")
    print(f"baseline, one ingest per delivery : {baseline:8.1f} deliveries/s")
    print(f"ours, one ingest per batch         : {ours:8.1f} deliveries/s")
    print(f"ratio                              : {ours / baseline:8.2f}x")


if __name__ == "__main__":
    if not EXAMPLE.exists():
        sys.exit(f"needs the shared test data at {EXAMPLE}")
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
