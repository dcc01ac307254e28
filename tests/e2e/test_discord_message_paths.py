"""Live guild messages skip ``discord.Message`` (``FramesBot``'s MESSAGE_CREATE hot path);
the record made from the raw payload must equal the one made from the ``discord.Message``
discord.py builds for the same payload (as backfill and DMs still do), field for field."""

from __future__ import annotations

from pathlib import Path

from cogs.capture._cog import message_record, message_record_from_payload
from core.db.engine import Database
from tests.fakes.discord_server import DiscordTestServer
from tests.fakes.discord_server.harness import rows, running_bot, seed, settle


async def test_payload_records_equal_discord_message_records(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    async with DiscordTestServer() as s:
        guild = s.add_guild("Lab")
        general = s.add_channel(guild, "general")
        ada, bob = s.add_user("ada"), s.add_user("bob")
        helper = s.add_user("ci-bot", bot=True)
        for user in (ada, bob, helper):
            s.add_member(guild, user)
        await seed(
            db,
            tmp_path,
            [f"uni,Uni,opt-out,t1,Team one,p-ada,Ada,student,{ada},granted"],
            [(guild.id, general, "t1")],
        )

        async with running_bot(s, db, database_url) as bot:
            mech = await s.add_role(guild, "mech")
            await s.set_roles(guild, bob, [mech])
            guild.members[ada]["nick"] = "Ada L."
            question = await s.say(general, ada, "How do we size the battery?")
            await s.say(general, bob, "Use the sheet", reply_to=question, mentions=[ada])
            await s.say(
                general,
                ada,
                f"<@&{mech}> please review",
                mention_roles=[str(mech)],
                member={"roles": [], "nick": "Ada L.", "joined_at": None, "flags": 0},
                attachments=[
                    {
                        "id": "1",
                        "filename": "budget.xlsx",
                        "size": 2048,
                        "url": "https://cdn.example/budget.xlsx",
                        "proxy_url": "https://cdn.example/budget.xlsx",
                    }
                ],
                embeds=[{"type": "link", "url": "https://docs.example/power"}],
                pinned=True,
            )
            await s.say(general, helper, "build passed", webhook_id=None)
            thread = await s.create_thread(general, bob, "Battery sizing")
            await s.say(thread, bob, "in the thread")
            await s.say(
                general,
                bob,
                "Battery sizing",
                type=18,
                message_reference={"channel_id": str(thread), "guild_id": str(guild.id)},
            )
            await settle(s, bot, database_url, general, ada)
            await settle(s, bot, database_url, thread, ada)

            # Stored live, and not one discord.Message was built for them.
            live = {int(m["id"]) for c in (general, thread) for m in s.channel_history(c)}
            stored = {r[0] for r in await rows(database_url, "SELECT id FROM discord_messages")}
            assert live <= stored
            assert list(bot.bot.cached_messages) == []

            cached = bot.bot.get_guild(guild.id)
            assert cached is not None
            compared = 0
            for channel_id in (general, thread):
                channel = cached.get_channel_or_thread(channel_id)
                assert channel is not None
                for payload in s.channel_history(channel_id):
                    # discord.py's own Message, from the same payload over REST.
                    message = await channel.fetch_message(int(payload["id"]))  # type: ignore[union-attr]
                    assert message_record_from_payload(payload, cached) == message_record(
                        message
                    ), payload["content"]
                    compared += 1
            assert compared == len(live)
            record = message_record_from_payload(s.channel_history(general)[2], cached)
            assert record.role_member_ids == (bob,) and record.author_display_name == "Ada L."
