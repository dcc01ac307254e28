"""Pure parts of the PM pipeline: handoff pairing, snapshot diffs, supersession, identity
matching, secrets references, HTTP header parsing, delivery identification."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from core.db.repositories.pm import StoredEvent, StoredTask
from core.errors import ConfigurationError
from core.pm.config import PMSettings
from core.pm.connectors.base import parse_time
from core.pm.connectors.jira import JiraConnector, adf_text
from core.pm.http import RetryPolicy, github_reset_wait, parse_link_header, parse_retry_after
from core.pm.identities import name_similarity, normalise_name
from core.pm.ingest import derive_interfaces, pair_handoffs, snapshot_events, superseded_inferences
from core.pm.records import ConnectionInfo, TaskSnapshot
from core.pm.secrets import SecretResolver, check_reference, parse_secrets_file
from core.pm.webhooks import body_hash, delivery_info

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def event(
    n: int,
    kind: str,
    minutes: float,
    *,
    subject: str | None = None,
    actor: str | None = "gh:lead",
    frm: str | None = None,
    to: str | None = None,
    raw: dict | None = None,
    task: str = "t",
) -> StoredEvent:
    return StoredEvent(
        n,
        task,
        kind,
        actor,
        subject,
        frm,
        to,
        T0 + dt.timedelta(minutes=minutes),
        f"k{n}",
        raw or {},
    )


def test_an_unassignment_and_an_assignment_close_together_are_one_handoff() -> None:
    events = [
        event(1, "unassigned", 0, subject="gh:ana", frm="gh:ana"),
        event(2, "assigned", 2, subject="gh:ben", to="gh:ben"),
        event(3, "assigned", 300, subject="gh:cy", to="gh:cy"),  # too late to pair
    ]
    (handoff,) = pair_handoffs(events, dt.timedelta(hours=1))
    assert (handoff.from_value, handoff.to_value, handoff.occurred_at) == (
        "gh:ana",
        "gh:ben",
        T0 + dt.timedelta(minutes=2),
    )
    assert handoff.dedupe_key == "reassigned:gh:ana->gh:ben:2026-03-01T12:02:00Z"
    # order of arrival does not matter
    assert pair_handoffs(list(reversed(events)), dt.timedelta(hours=1)) == [handoff]


def test_pairing_is_greedy_by_gap_and_never_pairs_a_person_with_themselves() -> None:
    events = [
        event(1, "unassigned", 0, subject="a", frm="a"),
        event(2, "assigned", 0, subject="a", to="a"),
        event(3, "assigned", 10, subject="b", to="b"),
        event(4, "assigned", 1, subject="c", to="c"),
    ]
    (handoff,) = pair_handoffs(events, dt.timedelta(hours=1))
    assert (handoff.from_value, handoff.to_value) == ("a", "c")


def stored(
    assigned: tuple[str, ...], closed: bool = False, minutes: float = 0, status: str = "open"
) -> StoredTask:
    return StoredTask("t", T0 + dt.timedelta(minutes=minutes), assigned, status, closed, {})


def snap(
    assignees: tuple[str, ...], minutes: float, *, closed: bool = False, status: str = "open"
) -> TaskSnapshot:
    return TaskSnapshot(
        "t",
        "T",
        status,
        T0 + dt.timedelta(minutes=minutes),
        assignees=assignees,
        closed=closed,
        completed_at=T0 + dt.timedelta(minutes=minutes) if closed else None,
    )


def test_snapshot_diffs_yield_the_keys_webhooks_use() -> None:
    events = snapshot_events(
        stored(("gh:ana",)), snap(("gh:ben",), 5, closed=True, status="closed")
    )
    assert [(e.event_type, e.subject, e.dedupe_key) for e in events] == [
        ("assigned", "gh:ben", "assigned:gh:ben:2026-03-01T12:05:00Z"),
        ("unassigned", "gh:ana", "unassigned:gh:ana:2026-03-01T12:05:00Z"),
        ("closed", None, "closed:2026-03-01T12:05:00Z"),
    ]
    assert all(e.raw == {"inferred": "snapshot"} for e in events)
    assert (
        snapshot_events(stored(("gh:ana",), minutes=10), snap(("gh:ben",), 5)) == []
    )  # older snapshot
    reopened = snapshot_events(stored((), closed=True, status="closed"), snap((), 5))
    assert [e.event_type for e in reopened] == ["reopened"]


def test_a_reported_event_supersedes_a_later_inference_unless_undone_in_between() -> None:
    inferred = {"inferred": "snapshot"}
    events = [
        event(1, "assigned", 0, subject="a", to="a"),
        event(2, "assigned", 3, subject="a", to="a", raw=inferred),
        event(3, "assigned", 9, subject="b", to="b", raw=inferred),
    ]
    assert [e.id for e in superseded_inferences(events)] == [2]
    undone = [*events, event(4, "unassigned", 1, subject="a", frm="a")]
    assert superseded_inferences(undone) == []


def test_interfaces_implied_by_each_event() -> None:
    assigned = event(1, "assigned", 0, subject="b", to="b", actor="lead")
    assert [
        (e.interface_type, e.from_entity, e.to_entity)
        for e in derive_interfaces(assigned, ("b", "c"), [], None)
    ] == [
        ("task_assignment", "lead", "b"),
        ("collaboration", "b", "c"),
    ]
    comment = event(2, "commented", 1, actor="c")
    edges = derive_interfaces(comment, ("b", "c"), ["a", "c", "a"], None)
    assert [(e.interface_type, e.from_entity, e.to_entity) for e in edges] == [
        ("comment", "c", "b"),
        ("collaboration", "c", "a"),
    ]
    paired = event(3, "reassigned", 2, frm="a", to="b", actor="lead", raw={"paired": ["x", "y"]})
    assert [
        (e.interface_type, e.from_entity, e.to_entity)
        for e in derive_interfaces(paired, (), [], None)
    ] == [("handoff", "a", "b")]
    direct = event(4, "reassigned", 2, frm="a", to="b", actor="lead")
    assert len(derive_interfaces(direct, (), [], None)) == 2
    review = event(5, "reviewed", 3, actor="rev")
    assert [
        (e.interface_type, e.to_entity) for e in derive_interfaces(review, (), [], "author")
    ] == [("review", "author")]


def test_names_are_compared_without_case_accents_or_order() -> None:
    assert normalise_name("Núñez, José") == "jose nunez"
    assert name_similarity("José Núñez", "jose nunez") == 1.0
    assert name_similarity("Ana Ruiz", "Zoë Park") < 0.5
    assert name_similarity("", "x") == 0.0


def test_secret_references_resolve_from_environment_then_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text(
        '# comment\n\nexport A_TOKEN="quoted value"\nB=plain=with=equals\n', encoding="utf-8"
    )
    assert parse_secrets_file(path) == {"A_TOKEN": "quoted value", "B": "plain=with=equals"}
    resolver = SecretResolver(path, environ={"A_TOKEN": "from-env"})
    assert resolver.resolve("A_TOKEN", "x").get_secret_value() == "from-env"
    assert resolver.resolve("B", "x").get_secret_value() == "plain=with=equals"
    assert "from-env" not in repr(resolver.resolve("A_TOKEN", "x"))
    with pytest.raises(ConfigurationError, match="secret 'MISSING' is not set"):
        resolver.resolve("MISSING", "connection 'c'")
    with pytest.raises(ConfigurationError, match="must name an environment variable"):
        check_reference("ghp_123-abc", "--token-ref")


def test_a_bad_secrets_file_line_is_reported_without_its_content(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("GOOD=1\nthis-line-is-a-token-xyz\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as error:
        parse_secrets_file(path)
    assert "line 2: expected KEY=VALUE" in str(error.value) and "xyz" not in str(error.value)


def test_http_header_parsing() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert (
        github_reset_wait({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"}, now=990)
        == 11.0
    )
    assert (
        github_reset_wait(
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1507651200000"}, now=1507651190
        )
        == 11.0
    )  # ms
    assert (
        github_reset_wait({"x-ratelimit-remaining": "12", "x-ratelimit-reset": "1000"}, now=990)
        is None
    )
    link = '<https://api.github.com/r?page=2>; rel="next", <https://api.github.com/r?page=5>; rel="last"'
    assert parse_link_header(link) == {
        "next": "https://api.github.com/r?page=2",
        "last": "https://api.github.com/r?page=5",
    }


def test_backoff_is_full_jitter_below_a_growing_ceiling() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=8)
    rng = random.Random(7)
    delays = [[policy.backoff(attempt, rng) for _ in range(200)] for attempt in range(5)]
    for attempt, samples in enumerate(delays):
        ceiling = min(8, 2**attempt)
        assert all(0 <= d <= ceiling for d in samples)
        assert max(samples) > ceiling * 0.8  # spread over the whole range, not a fixed wait


def test_times_from_every_vendor() -> None:
    assert parse_time("2017-01-30T18:32:14.716+0100") == dt.datetime(
        2017, 1, 30, 17, 32, 14, 716000, tzinfo=dt.UTC
    )
    assert parse_time("2019-05-15T15:20:18Z") == dt.datetime(2019, 5, 15, 15, 20, 18, tzinfo=dt.UTC)
    assert parse_time(1485797534721) == dt.datetime(2017, 1, 30, 17, 32, 14, 721000, tzinfo=dt.UTC)


def test_jira_text_and_jql() -> None:
    doc = {
        "type": "doc",
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hi"}]}],
    }
    assert adf_text(doc) == "Hi" and adf_text("plain") == "plain" and adf_text(None) is None
    connector = JiraConnector(
        ConnectionInfo(
            "j",
            "jira",
            {"project": "SAT", "time_zone": "America/Los_Angeles"},
            base_url="https://x.atlassian.net",
        ),
        "a@b:c",
        PMSettings(),
    )
    # cursor 2026-03-01T12:15Z, minus the 15-minute overlap, in Los Angeles time
    assert (
        connector.jql("2026-03-01T12:15:00+00:00")
        == 'project = "SAT" AND updated >= "2026/03/01 04:00" ORDER BY updated ASC'
    )
    assert connector.auth_headers("a@b:c")["Authorization"] == "Basic YUBiOmM="
    assert connector.auth_headers("oauth-token")["Authorization"] == "Bearer oauth-token"


def test_delivery_ids_come_from_the_vendor_or_the_body() -> None:
    body = b'{"x": 1}'
    assert (
        delivery_info(
            "github", {"X-GitHub-Delivery": "abc", "X-GitHub-Event": "issues"}, {}, body
        ).delivery_id
        == "abc"
    )
    assert (
        delivery_info(
            "trello", {}, {"action": {"id": "a1", "type": "commentCard"}}, body
        ).delivery_id
        == "action:a1"
    )
    assert (
        delivery_info("monday", {}, {"event": {"triggerUuid": "u", "type": "t"}}, body).delivery_id
        == "trigger:u"
    )
    assert delivery_info("asana", {}, {"events": []}, body).delivery_id == body_hash(body)
    assert (
        delivery_info("jira", {}, {"webhookEvent": "jira:issue_updated"}, body).event_type
        == "jira:issue_updated"
    )
