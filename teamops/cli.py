"""Command-line tools beside the server: `try` (see a reply without any platform),
`set-webhook` (register this service with Telegram), `discord-commands` (register the Discord
commands) and `slack-manifest` (the Slack app's setup)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

DEMO_TEAM = "America/Los_Angeles,America/New_York,Europe/London,Europe/Berlin,Asia/Kolkata,Asia/Tokyo"


def _zones(text: str) -> list[str]:
    return [z.strip() for z in text.split(",") if z.strip()]


def try_command(argv: list[str]) -> int:
    from teamops import mentions, wording

    parser = argparse.ArgumentParser(prog="app.py try", description="Print the reply the assistant would send.")
    parser.add_argument("text")
    parser.add_argument("--tz", default="UTC", help="the sender's zone (default UTC)")
    parser.add_argument("--team", default=os.environ.get("TEAM_TIMEZONES") or DEMO_TEAM,
                        help="the chat's other zones, comma-separated (default $TEAM_TIMEZONES, else a demo team)")
    parser.add_argument("--now", default="", help="when the message is sent, ISO 8601 (default: now)")
    parser.add_argument("--format", choices=("24h", "12h"), default=None,
                        help="default: 12h when the text uses am/pm, else 24h (as in a chat without /format)")
    args = parser.parse_args(argv)
    zones = _zones(args.team)
    for name in [args.tz, *zones]:
        if mentions.resolve_zone(name) is None:
            print(f"unknown zone: {name}", file=sys.stderr)
            return 2
    tz = mentions.resolve_zone(args.tz)
    try:
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(timezone.utc)
    except ValueError:
        print(f"--now is not ISO 8601: {args.now}", file=sys.stderr)
        return 2
    if now.tzinfo is None:
        now = now.replace(tzinfo=mentions.zone_for(tz))
    found = mentions.find_mentions(args.text, tz, now, zones)
    if not found:
        print("(no time in that message: the assistant stays silent)")
        return 0
    body = wording.conversion(found, sorted(set(zones) | {tz}), now, args.format or wording.format_of(found))
    if not body:
        print("(everyone is in the sender's zone: the assistant stays silent)")
        return 0
    # Plain text, as on a platform without moments: the reader's-own-clock line is left out.
    from teamops.events import plain

    print(plain(body))
    return 0


def set_webhook(argv: list[str]) -> int:
    import msgspec
    import urllib3

    from teamops import config as config_module

    parser = argparse.ArgumentParser(prog="app.py set-webhook", description="Point Telegram at this service.")
    parser.add_argument("--url", required=True, help="public base URL, e.g. https://team-ops.onrender.com")
    parser.add_argument("--drop-pending", action="store_true", help="discard updates Telegram is holding")
    args = parser.parse_args(argv)
    try:
        config = config_module.load()
    except config_module.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if not config.telegram_enabled:
        print("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first", file=sys.stderr)
        return 2
    body = {
        "url": args.url.rstrip("/") + "/hooks/telegram",
        "secret_token": config.telegram_webhook_secret,
        # message_reaction: a ❌ on one of our conversions (sent only while the bot is a chat admin).
        "allowed_updates": ["message", "edited_message", "callback_query", "chat_member", "my_chat_member",
                            "message_reaction"],
        "drop_pending_updates": args.drop_pending,
    }
    try:
        response = urllib3.request(
            "POST",
            f"{config.telegram_api_base}/bot{config.telegram_bot_token}/setWebhook",
            body=msgspec.json.encode(body),
            headers={"Content-Type": "application/json"},
            timeout=15,
            retries=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        print(f"could not reach Telegram: {type(exc).__name__}", file=sys.stderr)
        return 1
    answer = msgspec.json.decode(response.data) if response.data else {}
    if response.status == 200 and answer.get("ok"):
        print(f"webhook set: {body['url']}")
        return 0
    print(f"Telegram refused ({response.status}): {answer.get('description', '')}", file=sys.stderr)
    return 1


def discord_commands(argv: list[str]) -> int:
    from teamops import config as config_module
    from teamops.senders import discord

    parser = argparse.ArgumentParser(prog="app.py discord-commands",
                                     description="Register the Discord commands (replaces the whole list).")
    parser.add_argument("--guild", default="", help="one server's id: its commands update at once (for testing)")
    args = parser.parse_args(argv)
    try:
        config = config_module.load()
    except config_module.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if not (config.discord_application_id and config.discord_bot_token):
        print("set DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN first", file=sys.stderr)
        return 2
    if args.guild and not args.guild.isdigit():
        print("--guild takes a server id (digits)", file=sys.stderr)
        return 2
    sender = discord.DiscordSender(config.discord_api_base, config.discord_application_id,
                                   config.discord_bot_token, config.send_timeout_seconds)
    status, detail = sender.register_commands(discord.command_list(), args.guild)
    if not 200 <= status < 300:
        print(f"Discord refused ({status or 'no answer'}): {detail}", file=sys.stderr)
        return 1
    where = f"in server {args.guild}" if args.guild else "globally (may take up to an hour to show everywhere)"
    print(f"registered {detail} {where}")
    print("install in a server:  " + discord.install_link(config.discord_application_id, user=False))
    print("install for yourself: " + discord.install_link(config.discord_application_id, user=True))
    return 0


# Every scope the Slack app needs, each for a reason: posting (chat:write), the messages it reads
# (one *:history per channel type, app_mentions:read), slash commands, members' profile zones
# (users:read) and member lists (one *:read per channel type, for conversations.members and the
# join/leave events).
SLACK_SCOPES = [
    "app_mentions:read", "channels:history", "groups:history", "im:history", "mpim:history",
    "chat:write", "commands", "users:read", "channels:read", "groups:read", "im:read", "mpim:read",
    "reactions:read",  # a ❌ on one of our conversions: "not a time"
]
SLACK_EVENTS = [
    "app_mention", "message.channels", "message.groups", "message.im", "message.mpim",
    "member_joined_channel", "member_left_channel", "channel_left", "group_left", "user_change", "reaction_added",
]


def slack_app_manifest(base_url: str) -> dict:
    """The Slack app manifest for a service at `base_url`: URLs, scopes, events, commands and the
    message shortcut filled in (Slack: Create New App > From an app manifest)."""
    base = base_url.rstrip("/")
    commands = f"{base}/hooks/slack/commands"
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Team Ops Assistant",
            "description": "Converts the times your team writes into everyone's time zone.",
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {"home_tab_enabled": False, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
            "bot_user": {"display_name": "Team Ops", "always_online": True},
            "slash_commands": [
                {"command": "/tz", "url": commands, "should_escape": False,
                 "description": "Your time zone (from your profile unless you set one); /tz help for all commands",
                 "usage_hint": "[city | zone | auto | help | mute | unmute | format 12h | notices off | forget]"},
                {"command": "/time", "url": commands, "should_escape": False,
                 "description": "Now, or a time, in every zone of this channel (add 'share' to post it)",
                 "usage_hint": "[15:30 | 3pm PT tomorrow] [share]"},
                {"command": "/zones", "url": commands, "should_escape": False,
                 "description": "This channel's zones and who is in each",
                 "usage_hint": "[add Asia/Tokyo | remove Asia/Tokyo | unlearn]"},
                {"command": "/hours", "url": commands, "should_escape": False,
                 "description": "Your working hours (default 09:00-18:00 Mon-Fri in your zone)",
                 "usage_hint": "[9-18 | 08:30-17:00 mon-thu | off]"},
                {"command": "/overlap", "url": commands, "should_escape": False,
                 "description": "When everyone's working hours here overlap",
                 "usage_hint": "[30m | 1h] [days]"},
            ],
            "shortcuts": [
                {"name": "Convert for me", "type": "message", "callback_id": "convert_for_me",
                 "description": "This message's times in your zone and the channel's, just for you"},
            ],
        },
        "oauth_config": {"scopes": {"bot": SLACK_SCOPES}},
        "settings": {
            "event_subscriptions": {"request_url": f"{base}/hooks/slack/events", "bot_events": SLACK_EVENTS},
            "interactivity": {"is_enabled": True, "request_url": f"{base}/hooks/slack/interactive"},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def slack_manifest(argv: list[str]) -> int:
    import json

    parser = argparse.ArgumentParser(prog="app.py slack-manifest", description="Print the Slack app manifest (JSON).")
    parser.add_argument("--url", required=True, help="public base URL, e.g. https://team-ops.onrender.com")
    args = parser.parse_args(argv)
    if not args.url.startswith(("https://", "http://")):
        print("--url must start with https://", file=sys.stderr)
        return 2
    print(json.dumps(slack_app_manifest(args.url), indent=2, ensure_ascii=False))
    return 0
