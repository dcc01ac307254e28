"""History imports (DiscordChatExporter, Slack) into the shared capture records."""
