"""Chat commands and button presses, platform-neutral: /tz /time /zones /mute /unmute /format
/forget /start /help, and the buttons they offer.

Every platform's handler turns its own command syntax into a ChatMessage whose text starts with
"/", so this module serves them all.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from datetime import datetime, timezone

import msgspec

from teamops import mentions, relocation, tokens, wording, working_hours
from teamops.events import Button, ButtonPress, ChatMessage, Quoted, Reply, Span

log = logging.getLogger("teamops.commands")

HELP = (
    Span("I convert times written in this chat into everyone's time zone.\n", bold=True),
    Span(
        "Write times as you normally do (\u201csync at 15:30\u201d, \u201c10-11am PT tomorrow\u201d, "
        "\u201cв 7 вечера\u201d) and I answer with that moment in each zone here.\n\n"
        "/tz \u2014 show or set your zone (/tz Berlin, /tz America/New_York, /tz UTC+3)\n"
        "/time \u2014 now in every zone here; /time 15:30 converts a time on demand; "
        "/time sent as a reply converts that message\n"
        "/zones \u2014 the chat's zones and who is in each; /zones add Asia/Tokyo, /zones remove \u2026\n"
        "/mute, /unmute \u2014 stop or resume automatic conversions here\n"
        "/format 12h or /format 24h \u2014 how I show times here\n"
        "/hours 9-18 or /hours 08:30-17:00 mon-thu \u2014 your working hours (default 09:00\u201318:00 Mon\u2013Fri); "
        "/hours off \u2014 never mark you. A converted time gets \U0001f319 when it is night for someone, "
        "\U0001f3e0 when it is outside their hours\n"
        "/overlap [duration] [days] \u2014 when everyone's hours overlap (/overlap 1h 10)\n"
        "/notices off or on \u2014 notices here a few days before clocks change\n"
        "Not a time? React \u274c to my reply, or answer it \u201cnot a time\u201d: I delete it and stay "
        "silent on that pattern here (/zones lists what I learned, /zones unlearn clears it)\n"
        "/forget \u2014 delete everything I store about you\n"
        "/tz auto \u2014 use the zone from your chat profile again, where the chat app has one\n\n"
        "Every command also works after /tz: /tz mute, /tz format 12h, /tz help."
    ),
)

MAX_CONVERTED = 10  # as for messages answered unasked

KNOWN = {"start", "help", "tz", "time", "zones", "mute", "unmute", "format", "forget", "timezone", "hours", "overlap",
         "notices"}


def split(text: str, bot_username: str = "") -> tuple[str, str] | None:
    """("tz", "Berlin") for "/tz@our_bot Berlin"; None when it is not one of our commands."""
    if not text.startswith("/"):
        return None
    head, _, rest = text[1:].partition(" ")
    head, _, rest_nl = head.partition("\n")
    rest = (rest_nl + " " + rest).strip() if rest_nl else rest.strip()
    name, _, addressee = head.partition("@")
    name = name.lower()
    if name not in KNOWN:
        return None
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None  # "/tz@other_bot" in a group is another bot's command
    return ("tz" if name == "timezone" else name), rest


_NOT_A_TIME = re.compile(r"(?i)^\W*(?:that'?s\s+)?not\s+a\s+time\W*$")


def says_not_a_time(text: str) -> bool:
    """An answer to one of our conversions saying it was no time ("not a time", "Not a time!")."""
    return len(text) < 40 and bool(_NOT_A_TIME.match(text.strip()))


def is_command(text: str) -> bool:
    return split(text) is not None


async def run(assistant, msg: ChatMessage, key: str = "") -> list[Reply]:
    """`key` names the event: /tz may leave a question for the language model, stored once per event."""
    name, args = split(msg.text)
    if name == "tz":
        return await _tz(assistant, msg, args, key)
    handler = _COMMANDS[name]
    return await handler(assistant, msg, args)


def _answer(assistant, msg: ChatMessage, body, buttons=()) -> list[Reply]:
    return [assistant.reply(msg, body, buttons)]


def _privately(assistant, msg: ChatMessage, body, buttons=()) -> list[Reply]:
    """An answer only the asker sees: their zone, their link, their data."""
    return [assistant.private_reply(msg, body, buttons)]


async def _help(assistant, msg, args):
    return _answer(assistant, msg, HELP)


async def _start(assistant, msg, args):
    group = tokens.chat_from_code(assistant.config.verify_token_secret, msg.platform, args) if msg.private else None
    if group and not await assistant.in_chat(msg.platform, group, msg.user_id):
        # A forwarded button, or one kept after leaving: no link into a chat they are not in. The
        # ordinary greeting below still sets their zone, which counts wherever they write.
        log.info("start code for chat=%s from a non-member user=%s", group, msg.user_id)
        group = None
    if group:
        # Arrived from a group's "Set my time zone" button: a link of their own, for that group.
        return _answer(
            assistant,
            msg,
            (Span(f"{msg.user_name}, tap to set your time zone for your team's chat. The link is yours alone and works once."),),
            assistant.verify_button(msg.platform, msg.user_id, group),
        )
    user = await assistant.directory.user(msg.platform, msg.user_id)
    if user and user.get("tz"):
        hello = (Span(f"Hi {msg.user_name}! Your zone is "), Span(user["tz"], bold=True), Span(".\n\n"))
        return _answer(assistant, msg, hello + HELP)
    hello = (Span(f"Hi {msg.user_name}! Tap the button to set your time zone (one click), then add me to your team's chat.\n\n"),)
    return _answer(assistant, msg, hello + HELP, assistant.verify_button(msg.platform, msg.user_id, msg.chat_id))


# "/tz mute", "/tz format 12h": every command is reachable behind /tz, for platforms where a
# workspace registers a few commands only (Slack).
SUBCOMMANDS = ("help", "mute", "unmute", "format", "forget", "hours", "overlap", "notices")


async def _tz(assistant, msg, args, key=""):
    verb, _, rest = args.partition(" ")
    if verb.lower() in SUBCOMMANDS:
        return await _COMMANDS[verb.lower()](assistant, msg, rest.strip())
    if verb.lower() == "auto" and not rest.strip():
        return await _tz_auto(assistant, msg)
    if not args:
        user = await assistant.directory.user(msg.platform, msg.user_id)
        if user and user.get("tz"):
            return _privately(assistant, msg, wording.zone_set(msg.user_name, user["tz"]))
        return _privately(
            assistant,
            msg,
            (Span(f"{msg.user_name}, I don't know your zone yet. Tap to set it, or send /tz followed by your city."),),
            assistant.verify_button(msg.platform, msg.user_id, msg.chat_id),
        )
    chat = await assistant.store.chat(msg.platform, msg.chat_id)
    choices = await lookup_zone(args, assistant.chat_zones(chat))
    if not choices:
        if assistant.reader is not None and key:
            await assistant.reader.ask_later(msg, key, "tz", args)  # a spelling the city data lacks?
        return _privately(
            assistant,
            msg,
            (Span(f"I don't know a zone or city called \u201c{args[:60]}\u201d. Try /tz Berlin, /tz Europe/Berlin or /tz UTC+1."),),
            assistant.verify_button(msg.platform, msg.user_id, msg.chat_id),
        )
    if len(choices) == 1:
        return await set_zone(assistant, msg.platform, msg.chat_id, msg.user_id, msg.user_name, choices[0][1], msg)
    buttons = tuple((Button(text=label, data=f"tz:{msg.user_id}:{tz}"),) for label, tz in choices)
    return _privately(assistant, msg, (Span(f"Which one, {msg.user_name}?"),), buttons)


async def _tz_auto(assistant, msg):
    outcome, profile = await assistant.directory.use_profile(msg.platform, msg.user_id)
    if outcome == "none":
        return _privately(assistant, msg, (Span("This chat app does not tell me your zone. Set it with /tz and your city."),))
    if outcome == "unknown":
        return _privately(assistant, msg, (Span("I couldn't read your profile just now. Try again in a minute."),))
    if not profile.tz:
        return _privately(
            assistant,
            msg,
            (Span(f"{msg.user_name}, your profile has no time zone. Tap to set one, or send /tz and your city."),),
            assistant.verify_button(msg.platform, msg.user_id, msg.chat_id),
        )
    await assistant.store.touch_member(msg.platform, msg.chat_id, msg.user_id, msg.user_name, profile.tz)
    return _privately(assistant, msg, wording.zone_set(msg.user_name, profile.tz) + (Span(" From your profile."),))


async def city_search(query: str, limit: int) -> list:
    from teamops import cities

    # The first search loads the city table (a few hundred ms): keep it off the event loop.
    return await asyncio.to_thread(cities.search, query, limit)


async def lookup_zone(query: str, chat_zones=()) -> list[tuple[str, str]]:
    """(label, zone) choices for what a person typed: a zone name, an offset, or a city."""
    zone = mentions.resolve_zone(query, chat_zones)
    if zone:
        return [(zone, zone)]
    found = await city_search(query, 5)
    if not found:
        return []
    if len({c.tz for c in found}) == 1 or _clear_winner(found):
        return [(found[0].name, found[0].tz)]
    seen, choices = set(), []
    for city in found:
        if city.tz in seen:
            continue
        seen.add(city.tz)
        where = ", ".join(part for part in (city.admin, city.country) if part)
        choices.append((f"{city.name}, {where} ({city.tz})", city.tz))
    return choices


def zone_suggestions(query: str, limit: int = 25) -> list[tuple[str, str]]:
    """(label, zone) suggestions while someone types a zone or city (autocomplete): an exact zone
    or offset first, then zone names starting with the text, then cities. Blocking: the city
    table loads on first use, so call it off the event loop."""
    from teamops import cities

    text = query.strip()[:64]
    found: list[tuple[str, str]] = []
    exact = mentions.resolve_zone(text) if text else None
    if exact:
        found.append((exact, exact))
    if len(text) >= 2:
        needle = text.lower().replace(" ", "_")
        named = [z for z in mentions.zone_names() if needle in z.lower() and z != exact]
        # "ber" -> Europe/Berlin before America/Argentina/Cordoba's "...ber..." matches
        named.sort(key=lambda z: not any(part.startswith(needle) for part in z.lower().split("/")))
        found.extend((z, z) for z in named)
        for city in cities.search(text, limit):
            where = ", ".join(part for part in (city.admin, city.country) if part)
            found.append((f"{city.name}, {where} ({city.tz})" if where else f"{city.name} ({city.tz})", city.tz))
    seen, unique = set(), []
    for label, tz in found:
        if label not in seen:
            seen.add(label)
            unique.append((label, tz))
    return unique[:limit]


async def place_zone(place: str) -> str | None:
    """The zone of a place named in passing ("Lisbon", "Берлине"): an exact city name or a zone name.

    Stricter than /tz: a prefix or a small namesake is not enough when nobody asked for a lookup.
    """
    for form in relocation.candidates(place):
        zone = mentions.resolve_zone(form)
        if zone and "/" in zone:
            return zone
        found = await city_search(form, 3)
        if not found:
            continue
        top = found[0]
        from teamops import cities

        if cities.fold(top.name) == cities.fold(form) or (not form.isascii() and top.population >= 100_000):
            return top.tz
    return None


def _clear_winner(found) -> bool:
    """The best match is far bigger than any match in another zone (Paris, not Paris, Texas)."""
    top = found[0]
    rest = [c.population for c in found[1:] if c.tz != top.tz]
    return not rest or top.population >= 4 * max(rest)


async def set_zone(assistant, platform, chat_id, user_id, user_name, tz, msg=None) -> list[Reply]:
    await assistant.store.set_user_zone(platform, user_id, tz, "command", user_name)
    await assistant.store.touch_member(platform, chat_id, user_id, user_name, tz)
    body = wording.zone_set(user_name, tz)
    if msg is not None:
        return _privately(assistant, msg, body)
    return [Reply(platform=platform, chat_id=chat_id, body=body)]


async def _time(assistant, msg, args):
    if not args and msg.replied_to is not None:
        return await convert_message(assistant, msg, msg.replied_to)
    chat, user = await asyncio.gather(
        assistant.chat(msg.platform, msg.chat_id), assistant.directory.user(msg.platform, msg.user_id)
    )
    sender_tz = (user or {}).get("tz")
    zones = assistant.chat_zones(chat, sender_tz)
    time_format = chat.get("time_format") or "24h"
    if args:
        sent_at = datetime.fromtimestamp(msg.sent_at, timezone.utc)
        found = mentions.find_mentions(args, sender_tz or "UTC", sent_at, zones)
        time_format = chat.get("time_format") or wording.format_of(found)
        if not found:
            return _answer(assistant, msg, (Span("I couldn't read a time there. Try /time 15:30 or /time 3pm PT."),))
        if sender_tz is None and not all(m.tz_explicit for m in found):
            # Public, as the question was: its button is for anyone (in a group it opens a private
            # chat where whoever presses gets a link of their own).
            return _answer(
                assistant,
                msg,
                (Span("Tell me your zone first, or name one in the time (/time 15:30 CET)."),),
                assistant.verify_button(msg.platform, msg.user_id, msg.chat_id),
            )
        # On demand, the sender's own zone is worth showing too (unlike automatic replies).
        body = wording.conversion(found, zones + ["UTC"] if len(zones) < 2 else zones, sent_at, time_format,
                                  people=working_hours.people_by_zone(chat, msg.user_id))
        return _answer(assistant, msg, body or (Span("Everyone here is in that zone already."),))
    if not zones:
        return _answer(assistant, msg, (Span("I don't know any zones in this chat yet. Set yours with /tz."),))
    return _answer(assistant, msg, wording.now_in_zones(zones, datetime.now(timezone.utc), time_format))


async def _nobody():
    return None


async def convert_message(assistant, msg: ChatMessage, target: Quoted) -> list[Reply]:
    """Convert another message's times on request: /time sent as a reply to it, and each
    platform's "convert this message" action. Read in its writer's zone (not the asker's), shown
    in every zone of the chat and the asker's; answered under that message, even in a muted chat."""
    writer, asker, chat = await asyncio.gather(
        assistant.directory.user(msg.platform, target.user_id) if target.user_id else _nobody(),
        assistant.directory.user(msg.platform, msg.user_id),
        assistant.chat(msg.platform, msg.chat_id),
    )
    writer_tz, asker_tz = (writer or {}).get("tz"), (asker or {}).get("tz")
    zones = assistant.chat_zones(chat, writer_tz, asker_tz)
    # Whoever asks without a zone of their own sees the times on their own clock (the reply's
    # moments) and gets the one-click link to set it, so the next answer names their zone too.
    buttons = () if asker_tz else assistant.verify_button(msg.platform, msg.user_id, msg.chat_id)
    sent_at = datetime.fromtimestamp(target.sent_at, timezone.utc)
    found = mentions.find_mentions(target.text, writer_tz or "UTC", sent_at, zones)[:MAX_CONVERTED]
    if not found:
        return _answer(assistant, msg, (Span("I couldn't find a time in that message."),), buttons)
    if writer_tz is None:
        found = [m for m in found if m.tz_explicit]
        if not found:
            who = target.user_name or "its writer"
            return _answer(assistant, msg, (Span(
                f"I don't know {who}'s time zone yet, so I can't tell which time they mean. "
                "Once they set it (/tz), ask me again."),), buttons)
    time_format = chat.get("time_format") or wording.format_of(found)
    body = wording.conversion(found, zones + ["UTC"] if len(zones) < 2 else zones, sent_at, time_format,
                              people=working_hours.people_by_zone(chat, target.user_id))
    reply = assistant.reply(msg, body or (Span("Everyone here is in that zone already."),), buttons)
    return [msgspec.structs.replace(reply, reply_to=target.message_id or msg.message_id)]


async def _zones(assistant, msg, args):
    verb, _, rest = args.partition(" ")
    verb = verb.lower()
    if verb in ("unlearn", "learned"):
        chat = await assistant.store.chat(msg.platform, msg.chat_id)
        if verb == "learned" or not chat.get("not_times"):
            return _answer(assistant, msg, wording.learned(chat.get("not_times") or ()))
        await assistant.store.chat_settings(msg.platform, msg.chat_id, not_times=[])
        return _answer(assistant, msg, wording.unlearned(len(chat["not_times"])))
    if verb in ("add", "remove", "rm", "del", "delete"):
        if not rest.strip():
            return _answer(assistant, msg, (Span(f"Which zone? For example /zones {verb} Asia/Tokyo"),))
        chat = await assistant.store.chat(msg.platform, msg.chat_id)
        choices = await lookup_zone(rest.strip(), assistant.chat_zones(chat))
        if verb != "add":
            extra = chat.get("extra_zones") or []
            target = next((tz for _, tz in choices if tz in extra), None) or (rest.strip() if rest.strip() in extra else None)
            if not target:
                return _answer(assistant, msg, (Span("That zone was not added with /zones add, so there is nothing to remove. Members' own zones stay while they are here."),))
            await assistant.store.remove_chat_zone(msg.platform, msg.chat_id, target)
            return _answer(assistant, msg, (Span("Removed "), Span(target, bold=True), Span(" from this chat's extra zones.")))
        if len(choices) != 1:
            if not choices:
                return _answer(assistant, msg, (Span(f"I don't know a zone called \u201c{rest.strip()[:60]}\u201d."),))
            options = ", ".join(tz for _, tz in choices)
            return _answer(assistant, msg, (Span(f"Which one? {options}"),))
        tz = choices[0][1]
        await assistant.store.add_chat_zone(msg.platform, msg.chat_id, tz)
        return _answer(assistant, msg, (Span("Added "), Span(tz, bold=True), Span(" to this chat's zones.")))
    chat = await assistant.chat(msg.platform, msg.chat_id)
    listed = wording.zone_list(chat, assistant.config.team_timezones)
    if chat.get("not_times"):
        listed += (Span("\n\n"),) + wording.learned(chat["not_times"])
    return _answer(assistant, msg, listed)


async def _mute(assistant, msg, args):
    await assistant.store.chat_settings(msg.platform, msg.chat_id, muted=True)
    return _answer(assistant, msg, (Span("Muted: I won't convert times here automatically. /time still works; /unmute to resume."),))


async def _unmute(assistant, msg, args):
    await assistant.store.chat_settings(msg.platform, msg.chat_id, muted=False)
    return _answer(assistant, msg, (Span("Unmuted: I'll convert times written here again."),))


async def _format(assistant, msg, args):
    choice = args.strip().lower().replace(" ", "")
    if choice not in ("12h", "24h", "12", "24"):
        return _answer(assistant, msg, (Span("Use /format 12h or /format 24h."),))
    choice = choice.rstrip("h") + "h"
    await assistant.store.chat_settings(msg.platform, msg.chat_id, time_format=choice)
    sample = wording.clock(datetime(2026, 1, 1, 15, 30), choice)
    return _answer(assistant, msg, (Span(f"Times here will look like {sample}."),))


async def _forget(assistant, msg, args):
    await assistant.store.forget_user(msg.platform, msg.user_id)
    return _privately(assistant, msg, (Span(f"Done, {msg.user_name}: I deleted your zone and your chat memberships."),))


async def _hours(assistant, msg, args):
    """Your working hours: shown, set, or off (answered privately, like /tz)."""
    if not args.strip():
        user = await assistant.store.user(msg.platform, msg.user_id) or {}
        return _privately(assistant, msg, wording.hours_are(msg.user_name, working_hours.of(user), bool(user.get("hours"))))
    try:
        hours = working_hours.parse(args)
    except working_hours.HoursError as exc:
        return _privately(assistant, msg, (Span(str(exc)),))
    await assistant.store.set_user_hours(msg.platform, msg.user_id, hours, msg.user_name)
    await assistant.store.touch_member(msg.platform, msg.chat_id, msg.user_id, msg.user_name, None, hours=hours)
    return _privately(assistant, msg, wording.hours_are(msg.user_name, hours, True))


async def _overlap(assistant, msg, args):
    try:
        minutes, days = working_hours.parse_overlap(args)
    except working_hours.HoursError as exc:
        return _answer(assistant, msg, (Span(str(exc)),))
    chat, user = await asyncio.gather(
        assistant.chat(msg.platform, msg.chat_id), assistant.directory.user(msg.platform, msg.user_id)
    )
    people, unset, opted_out = [], [], []
    for member in (chat.get("members") or {}).values():
        name = member.get("name") or "someone"
        hours = working_hours.of(member)
        if not member.get("tz"):
            unset.append(name)
        elif hours.get("off"):
            opted_out.append(name)
        else:
            people.append((name, member["tz"], hours))
    if len(people) < 2:
        return _answer(assistant, msg, (Span("I need at least two members with a zone here to find an overlap. Each can set theirs with /tz."),))
    now = datetime.fromtimestamp(msg.sent_at, timezone.utc)
    asker_tz = (user or {}).get("tz") or "UTC"
    windows, _ = await asyncio.to_thread(working_hours.overlap, people, now, minutes, days, asker_tz)
    zones = assistant.chat_zones(chat, asker_tz)
    time_format = chat.get("time_format") or "24h"
    return _answer(assistant, msg, wording.overlap(windows, zones, minutes, days, len(people), time_format,
                                                   unset, opted_out))


async def _notices(assistant, msg, args):
    choice = args.strip().lower()
    if choice not in ("on", "off"):
        chat = await assistant.store.chat(msg.platform, msg.chat_id)
        state = "off" if chat.get("notices") is False else "on"
        return _answer(assistant, msg, (Span(f"Clock-change notices here are {state}. Use /notices off or /notices on."),))
    await assistant.store.chat_settings(msg.platform, msg.chat_id, notices=choice == "on")
    if choice == "on":
        return _answer(assistant, msg, (Span("Notices on: a few days before a zone here changes its clocks, I'll say what changes."),))
    return _answer(assistant, msg, (Span("Notices off: I won't announce clock changes here. /notices on to resume."),))


_COMMANDS = {
    "hours": _hours,
    "overlap": _overlap,
    "notices": _notices,
    "help": _help,
    "start": _start,
    "tz": _tz,
    "time": _time,
    "zones": _zones,
    "mute": _mute,
    "unmute": _unmute,
    "format": _format,
    "forget": _forget,
}


async def on_button(assistant, press: ButtonPress) -> list[Reply]:
    kind, _, rest = press.data.partition(":")
    owner, _, value = rest.partition(":")
    answer = functools.partial(Reply, platform=press.platform, chat_id=press.chat_id, reply_handle=press.reply_handle)
    ack = answer(ack_press=press.press_id)
    if kind not in ("tz", "move") or not value:
        return [ack]
    declined = kind == "move" and value == "no"
    if not declined and mentions.resolve_zone(value) != value:
        return [ack]  # not a zone we offered
    if owner != press.user_id:
        return [answer(ack_press=press.press_id, body=(Span("This button is for someone else."),))]
    if declined:
        return [ack, answer(thread_id=press.thread_id, body=(Span(f"OK {press.user_name}, your zone stays as it is."),))]
    replies = await set_zone(assistant, press.platform, press.chat_id, press.user_id, press.user_name, value)
    if kind == "tz":
        # A choice from a /tz answer: confirmed to the chooser alone, like every /tz answer.
        asker = ChatMessage(platform=press.platform, chat_id=press.chat_id, user_id=press.user_id,
                            user_name=press.user_name, text="", sent_at=0.0, thread_id=press.thread_id,
                            private=press.private, reply_handle=press.reply_handle)
        return [ack] + [assistant.private_reply(asker, r.body, press_id=press.press_id) for r in replies]
    return [ack] + [answer(body=r.body, thread_id=press.thread_id) for r in replies]
