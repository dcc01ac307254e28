"""The real discord.py bot against the Discord test server over loopback sockets, writing to
the real embedded PostgreSQL: each event type leaves exactly the expected rows."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.db.engine import Database
from tests.fakes.discord_server import DiscordTestServer, Guild
from tests.fakes.discord_server import payloads as p
from tests.fakes.discord_server.harness import rows, running_bot, seed, settle


@dataclass
class World:
    server: DiscordTestServer
    guild: Guild
    general: int
    forum: int
    unmapped: int
    ada: int  # consented
    bob: int  # no consent recorded
    cyd: int  # not on the roster


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[World]:
    async with DiscordTestServer() as server:
        guild = server.add_guild("Lab")
        general = server.add_channel(guild, "general")
        forum = server.add_channel(guild, "design-reviews", kind=p.FORUM)
        unmapped = server.add_channel(guild, "off-topic")
        ada, bob, cyd = (server.add_user(n) for n in ("ada", "bob", "cyd"))
        for user in (ada, bob, cyd):
            server.add_member(guild, user)
        await seed(
            db,
            tmp_path,
            [
                f"uni,Uni,opt-in,t1,Team one,p-ada,Ada,student,{ada},granted",
                f"uni,,,t1,,p-bob,Bob,student,{bob},",
            ],
            [(guild.id, general, "t1"), (guild.id, forum, "t1")],
        )
        yield World(server, guild, general, forum, unmapped, ada, bob, cyd)


def messages_sql(extra: str = "") -> str:
    return (
        "SELECT id, channel_id, thread_id, author_id, content, team_id, university_id, "
        "message_type, reference_id, edited_at IS NOT NULL, deleted_at IS NOT NULL, is_dm "
        f"FROM discord_messages WHERE coalesce(content, '') <> 'barrier' {extra} ORDER BY id"
    )


async def test_messages_replies_and_consent_at_the_door(
    world: World, db: Database, database_url: str
) -> None:
    s = world.server
    async with running_bot(s, db, database_url) as bot:
        question = await s.say(world.general, world.ada, "How do we size the battery?")
        answer = await s.say(
            world.general, world.bob, "Use the power budget sheet", reply_to=question
        )
        mention = await s.say(world.general, world.cyd, "hi", mentions=[world.ada])
        await s.say(world.unmapped, world.ada, "not captured")
        await settle(s, bot, database_url, world.general, world.ada)
        assert bot.pipeline.metrics.unmapped == {world.unmapped: 1}
    stored = await rows(database_url, messages_sql())
    assert stored == [
        (
            question,
            world.general,
            None,
            world.ada,
            "How do we size the battery?",
            "t1",
            "uni",
            "question",
            None,
            False,
            False,
            False,
        ),
        # Bob gave no consent and Cyd is unknown: opt-in keeps their metadata only.
        (
            answer,
            world.general,
            None,
            world.bob,
            None,
            "t1",
            "uni",
            "answer",
            question,
            False,
            False,
            False,
        ),
        # Said while Ada's question is open, so the classifier counts it as an answer.
        (
            mention,
            world.general,
            None,
            world.cyd,
            None,
            "t1",
            "uni",
            "answer",
            None,
            False,
            False,
            False,
        ),
    ]
    edges = await rows(
        database_url,
        "SELECT from_user_id, to_user_id, interaction_type, source_message_id "
        "FROM discord_interfaces WHERE interaction_type <> 'inferred_reply' "
        "ORDER BY source_message_id, interaction_type",
    )
    assert edges == [
        (world.bob, world.ada, "reply", answer),
        (world.cyd, world.ada, "mention", mention),
    ]
    # Cyd's "hi" to Ada, while her question is open, is also inferred to answer it.
    inferred = await rows(
        database_url,
        "SELECT from_user_id, to_user_id, source_message_id FROM discord_interfaces "
        "WHERE interaction_type = 'inferred_reply'",
    )
    assert (world.cyd, world.ada, mention) in inferred
    identities = await rows(
        database_url,
        "SELECT external_id, person_id FROM identities WHERE provider = 'discord' ORDER BY 1",
    )
    assert identities == sorted(
        [(str(world.ada), "p-ada"), (str(world.bob), "p-bob"), (str(world.cyd), None)]
    )
    checkpoint = await rows(
        database_url,
        "SELECT last_message_id FROM capture_checkpoints WHERE channel_id = $1",
        world.general,
    )
    assert checkpoint and checkpoint[0][0] > mention  # the barrier is the newest


async def test_edits_deletes_and_bulk_deletes_keep_tombstones(
    world: World, db: Database, database_url: str
) -> None:
    s = world.server
    async with running_bot(s, db, database_url) as bot:
        first = await s.say(world.general, world.ada, "draft one")
        second = await s.say(world.general, world.ada, "draft two")
        third = await s.say(world.general, world.ada, "draft three")
        await s.edit(world.general, first, "final one")
        await s.delete(world.general, second)
        await s.bulk_delete(world.general, [third])
        await s.edit(world.general, first, "final one, really")
        await settle(s, bot, database_url, world.general, world.ada)
    stored = await rows(
        database_url,
        "SELECT id, content, edited_at IS NOT NULL, deleted_at IS NOT NULL "
        "FROM discord_messages WHERE content IS DISTINCT FROM 'barrier' ORDER BY id",
    )
    assert stored == [
        (first, "final one, really", True, False),
        (second, None, False, True),
        (third, None, False, True),
    ]
    assert await rows(database_url, "SELECT count(*) FROM capture_pending_changes") == [(0,)]


async def test_changes_before_their_message_are_kept_and_win(
    world: World, db: Database, database_url: str
) -> None:
    s = world.server
    async with running_bot(s, db, database_url) as bot:
        early_id, deleted_id, reacted_id = s.ids.next(), s.ids.next(), s.ids.next()
        stored_truth = {
            i: s._store_message(world.general, world.ada, text, message_id=i)
            for i, text in ((early_id, "original"), (deleted_id, "doomed"), (reacted_id, "ok"))
        }
        for message in stored_truth.values():
            message.pop("id_int")
        # An edit (a full message since API v10), a delete and a reaction reach the bot
        # before the messages they change.
        edited = {
            **stored_truth[early_id],
            "content": "edited first",
            "edited_timestamp": "2030-01-01T00:00:00.000000+00:00",
        }
        await s.dispatch("MESSAGE_UPDATE", edited, world.guild.id)
        await s.dispatch(
            "MESSAGE_DELETE",
            {
                "id": str(deleted_id),
                "channel_id": str(world.general),
                "guild_id": str(world.guild.id),
            },
            world.guild.id,
        )
        await s.react(world.general, reacted_id, world.bob, "👍")
        await settle(s, bot, database_url, world.general, world.ada)
        assert await rows(database_url, "SELECT kind FROM capture_pending_changes ORDER BY id") == [
            ("delete",),
            ("reaction_add",),
        ]
        for message in stored_truth.values():
            await s.dispatch("MESSAGE_CREATE", message, world.guild.id)
        await settle(s, bot, database_url, world.general, world.ada)
    stored = await rows(
        database_url,
        "SELECT id, content, deleted_at IS NOT NULL FROM discord_messages "
        "WHERE id = ANY($1::bigint[]) ORDER BY id",
        [early_id, deleted_id, reacted_id],
    )
    assert stored == [
        (early_id, "edited first", False),
        (deleted_id, None, True),
        (reacted_id, "ok", False),
    ]
    assert await rows(
        database_url, "SELECT message_id, user_id, emoji, removed_at FROM discord_reactions"
    ) == [(reacted_id, world.bob, "👍", None)]
    assert await rows(database_url, "SELECT count(*) FROM capture_pending_changes") == [(0,)]


async def test_reactions_added_and_removed(world: World, db: Database, database_url: str) -> None:
    s = world.server
    async with running_bot(s, db, database_url) as bot:
        message = await s.say(world.general, world.ada, "Here is the test plan")
        await s.react(world.general, message, world.bob, "👍")
        await s.react(world.general, message, world.cyd, "🎉")
        await s.react(world.general, message, world.cyd, "🎉", remove=True)
        await settle(s, bot, database_url, world.general, world.ada)
    assert await rows(
        database_url,
        "SELECT user_id, emoji, channel_id, university_id, removed_at IS NOT NULL "
        "FROM discord_reactions ORDER BY user_id",
    ) == sorted(
        [
            (world.bob, "👍", world.general, "uni", False),
            (world.cyd, "🎉", world.general, "uni", True),
        ]
    )
    assert await rows(
        database_url,
        "SELECT from_user_id, to_user_id FROM discord_interfaces "
        "WHERE interaction_type = 'reaction' ORDER BY from_user_id",
    ) == sorted([(world.bob, world.ada), (world.cyd, world.ada)])


async def test_threads_and_forum_posts_with_their_messages(
    world: World, db: Database, database_url: str
) -> None:
    s = world.server
    async with running_bot(s, db, database_url) as bot:
        starter = await s.say(world.general, world.ada, "Thermal review?")
        thread = await s.create_thread(
            world.general, world.ada, "thermal", starter_message_id=starter
        )
        in_thread = await s.say(thread, world.bob, "Radiator is undersized")
        post, first_post_message = await s.create_forum_post(
            world.forum, world.ada, "Antenna", "Deployment hinge design"
        )
        reply = await s.say(post, world.bob, "Looks good")
        outside = await s.create_thread(world.unmapped, world.ada, "elsewhere")
        await s.say(outside, world.ada, "not captured")
        await settle(s, bot, database_url, world.general, world.ada)
    assert await rows(
        database_url,
        "SELECT id, parent_id, kind, name, metadata->>'thread_kind' FROM discord_channels "
        "WHERE kind = 'thread' ORDER BY id",
    ) == [
        (thread, world.general, "thread", "thermal", "thread"),
        (post, world.forum, "thread", "Antenna", "forum_post"),
    ]
    assert await rows(
        database_url,
        "SELECT id, channel_id, thread_id, author_id FROM discord_messages "
        "WHERE thread_id IS NOT NULL ORDER BY id",
    ) == [
        (in_thread, world.general, thread, world.bob),
        (first_post_message, world.forum, post, world.ada),
        (reply, world.forum, post, world.bob),
    ]
    thread_edges = await rows(
        database_url,
        "SELECT from_user_id, to_user_id FROM discord_interfaces WHERE interaction_type = 'thread'",
    )
    assert thread_edges == [(world.bob, world.ada)]


async def test_dms_are_stored_only_for_people_who_consented(
    world: World, db: Database, database_url: str
) -> None:
    s = world.server
    async with running_bot(s, db, database_url) as bot:
        kept = await s.send_dm(world.ada, "Can I talk to you about the review?")
        await s.send_dm(world.bob, "private question")
        await s.send_dm(world.cyd, "who are you")
        await settle(s, bot, database_url, world.general, world.ada)
        assert bot.pipeline.metrics.dms_without_consent == 2
    assert await rows(database_url, messages_sql("AND is_dm")) == [
        (
            kept,
            s.dm_channels[world.ada],
            None,
            world.ada,
            "Can I talk to you about the review?",
            None,
            "uni",
            "question",
            None,
            False,
            False,
            True,
        )
    ]
    # The DM is an interface from Ada to the one she wrote to: the bot.
    assert await rows(
        database_url,
        "SELECT from_user_id, to_user_id, source_message_id FROM discord_interfaces "
        "WHERE interaction_type = 'dm'",
    ) == [(world.ada, s.application_id, kept)]


async def test_member_join_leave_and_role_changes(
    world: World, db: Database, database_url: str
) -> None:
    s = world.server
    async with running_bot(s, db, database_url) as bot:
        dee = s.add_user("dee")
        await s.join(world.guild, dee)
        role = await s.add_role(world.guild, "avionics")
        await s.set_roles(world.guild, dee, [role])
        await s.leave(world.guild, dee)
        await settle(s, bot, database_url, world.general, world.ada)
    assert await rows(
        database_url,
        "SELECT guild_id, user_id, kind, role_ids FROM discord_member_events ORDER BY id",
    ) == [
        (world.guild.id, dee, "join", []),
        (world.guild.id, dee, "roles", [role]),
        (world.guild.id, dee, "leave", []),
    ]
    assert await rows(
        database_url, "SELECT count(*) FROM identities WHERE external_id = $1", str(dee)
    ) == [(1,)]


async def test_bad_payloads_are_logged_with_their_type_and_capture_goes_on(
    world: World, db: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    s = world.server
    caplog.set_level(logging.ERROR)
    async with running_bot(s, db, database_url) as bot:
        gid = world.guild.id
        await s.dispatch(
            "MESSAGE_CREATE", {"id": "not-a-number", "channel_id": str(world.general)}, gid
        )
        await s.dispatch("MESSAGE_REACTION_ADD", {"message_id": "1"}, gid)
        await s.dispatch("MESSAGE_DELETE", {"channel_id": str(world.general)}, gid)
        await s.dispatch("SOMETHING_NEW", {"x": 1}, gid)
        after = await s.say(world.general, world.ada, "still captured")
        await settle(s, bot, database_url, world.general, world.ada)
        assert bot.bot.is_ready() and not bot.bot.is_closed()
    assert await rows(database_url, "SELECT id FROM discord_messages WHERE id = $1", after) == [
        (after,)
    ]
    logged = " ".join(r.getMessage() for r in caplog.records)
    for event in ("MESSAGE_CREATE", "MESSAGE_REACTION_ADD", "MESSAGE_DELETE"):
        assert f"malformed {event} payload" in logged
    assert s.unknown_requests == []
