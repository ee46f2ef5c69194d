"""The language-model fallback: what the rules could not read is asked of a model, later, and
its answer is believed only as far as it can be checked.

When it asks. Only for a message the time engine marks as maybe holding a time it could not read
(mentions.might_hold_unread_time: a clock phrase in words left unread), written by someone whose
zone is known, in a chat that is not muted; and for a place the city data does not know (`/tz
Lisboa`, "I moved to Lisboa"). Never for a message the rules read fully or one with no time
signal, never from a command that converts on demand (/time reads with the rules alone), and
never before a webhook's answer: the assistant stores a ModelReading in the inbox, and the
worker takes it in a lane of its own beside the chat's (events.lane_of), so the chat's later
messages never wait for the model. What the rules read is answered at once, as without a model;
the model's reading follows as its own reply, marked "≈ read … as …".

What is sent. The fixed instructions and the one message's text, with what the rules never read
blanked out (code, links, quoted lines) and runs of spaces folded; for a place, only the place as
written. Never the chat's history, names, ids or zones.

What is believed. The answer is decoded with msgspec against a fixed schema, then each reading is
checked: a time 00:00-23:59; its words found verbatim in the text that was sent; digits in them
that agree with the hour, or words the engine knows for clocks ("after lunch" is not a time); a
zone that is a real IANA name or offset, named by words of the message that the rules, if they
can read them, read as the same zone; a day 0-7 days on. A reading that contradicts one the
rules made with certainty (same words, another time) throws the whole answer away; one the rules
made already is dropped. For a place: a real IANA zone that agrees with the city data when the
data knows the city the model named, offered with a button, never set without a yes. Everything
thrown away is counted in the item's log line, never quoted.

Guard rails, in order: the answer cache (MongoDB, keyed by a hash of kind, model, prompt version
and the normalised text; MODEL_CACHE_DAYS), the circuit breaker (MODEL_BREAKER_FAILURES failures
or 429s in a row open it for MODEL_BREAKER_COOLDOWN_SECONDS, its state in MongoDB so every
instance agrees; then one caller probes), the daily caps per chat and in all (MODEL_CHAT_DAILY_CAP,
MODEL_DAILY_CAP, UTC days), the call's timeout (MODEL_TIMEOUT_SECONDS) and the item's whole budget
(MODEL_BUDGET_SECONDS). Logs carry counts, outcomes and latencies, never text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import unicodedata
from collections import Counter
from datetime import datetime, timedelta, timezone

import msgspec

from teamops import mentions, wording, working_hours
from teamops.events import Button, ChatMessage, ModelReading, Reply, to_doc
from teamops.mentions.model import dst_flag

log = logging.getLogger("teamops.model")

PROMPT_VERSION = "1"  # part of the cache key: a new prompt is asked afresh
BREAKER = "together"
HOLD_SECONDS = 0.5  # a question waits this long for the worker: the answer it follows goes out first
MAX_TEXT_CHARS = 800  # a longer message is not sent (cost; the long tail is short phrases)
MAX_PLACE_CHARS = 80
MAX_READINGS = 5
MAX_TOKENS = 300

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_NUMBER = re.compile(r"[0-9]+")
_SPACE = re.compile(r"\s+")

_NULLABLE_STRING = {"type": ["string", "null"]}
TIMES_SCHEMA = {
    "type": "object",
    "properties": {
        "times": {
            "type": "array",
            "maxItems": MAX_READINGS,
            "items": {
                "type": "object",
                "properties": {
                    "span": {"type": "string"},
                    "time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                    "end": _NULLABLE_STRING,
                    "day": {"type": ["integer", "null"], "minimum": 0, "maximum": 7},
                    "zone": _NULLABLE_STRING,
                    "zone_span": _NULLABLE_STRING,
                },
                "required": ["span", "time", "end", "day", "zone", "zone_span"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["times"],
    "additionalProperties": False,
}
PLACE_SCHEMA = {
    "type": "object",
    "properties": {"city": _NULLABLE_STRING, "zone": _NULLABLE_STRING},
    "required": ["city", "zone"],
    "additionalProperties": False,
}

TIMES_PROMPT = (
    "You find the clock times in one chat message, in any language. Answer with JSON only, "
    "matching this JSON Schema: " + msgspec.json.encode(TIMES_SCHEMA).decode() + "\n"
    "Rules: list only times of day the message itself states, in digits or in words; never infer a "
    "time from vague words (lunch, later, soon, tonight alone). span: the words of the message that "
    "state the time, copied exactly. time: 24-hour HH:MM as the writer means it. end: the end of a "
    "range, else null. day: days after the day the message was written (0 today, 1 tomorrow), null "
    "when it names no day. zone: only when the message names a zone, a city or a country for that "
    "time: an IANA name (Europe/London) or an offset (UTC+03:00), with zone_span the words that "
    "name it, copied exactly; otherwise both null (\"my time\" and \"your time\" are not zones). "
    "A message without a clock time: {\"times\": []}."
)
PLACE_PROMPT = (
    "You name the place someone typed: a city, region or country, maybe misspelt or in another "
    "language or script. Answer with JSON only, matching this JSON Schema: "
    + msgspec.json.encode(PLACE_SCHEMA).decode() + "\n"
    "city: the place's usual English name, or null when it is not a place you know. zone: the "
    "IANA time zone in force there (Europe/Lisbon), or null when the place spans several zones "
    "or you are not sure. Null is a good answer; a guess is not."
)


class Reading(msgspec.Struct):
    span: str
    time: str
    end: str | None = None
    day: int | None = None
    zone: str | None = None
    zone_span: str | None = None


class TimesAnswer(msgspec.Struct):
    times: list[Reading] = []


class PlaceAnswer(msgspec.Struct):
    city: str | None = None
    zone: str | None = None


_ANSWERS = {"times": TimesAnswer, "place": PlaceAnswer}
_DECODERS = {kind: msgspec.json.Decoder(answer).decode for kind, answer in _ANSWERS.items()}
_PROMPTS = {"times": (TIMES_PROMPT, TIMES_SCHEMA), "place": (PLACE_PROMPT, PLACE_SCHEMA)}


def sent_text(text: str) -> tuple[str, list[int]]:
    """What is sent for a message: the rules' unread parts blanked (code, links, quotes), spaces
    folded, Unicode composed; and for each character sent, where it stands in `text`."""
    scan = _masked(text)
    out: list[str] = []
    where: list[int] = []
    for match in re.finditer(r"\S+", scan):
        if out:
            out.append(" ")
            where.append(match.start() - 1)
        out.append(match.group())
        where.extend(range(match.start(), match.end()))
    # NFC only where it keeps the length, so every sent character still maps to one in `text`.
    joined = "".join(out)
    composed = unicodedata.normalize("NFC", joined)
    return (composed, where) if len(composed) == len(joined) else (joined, where)


def _masked(text: str) -> str:
    from teamops.mentions.mask import mask

    return mask(text)


def cache_key(kind: str, model: str, text: str) -> str:
    material = "\x1f".join((kind, model, PROMPT_VERSION, _SPACE.sub(" ", text).strip()))
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


# ------------------------------------------------------------------------------------------------
# The checks: pure functions of the text, the answer and what the rules read
# ------------------------------------------------------------------------------------------------

def check_times(text: str, answer: TimesAnswer, rules, sender_tz: str | None, sent_at: datetime,
                chat_zones=()) -> tuple[list[mentions.Mention], Counter]:
    """The model's readings that survive every check, as Mentions in `text`, and how many were
    thrown away for which reason. A reading that contradicts one the rules made with certainty
    throws the whole answer away."""
    sent, where = sent_text(text)
    kept: list[mentions.Mention] = []
    dropped: Counter = Counter()
    for reading in answer.times[:MAX_READINGS]:
        clock = _CLOCK.fullmatch(reading.time)
        end = _CLOCK.fullmatch(reading.end) if reading.end else None
        if clock is None or (reading.end and end is None):
            dropped["time"] += 1
            continue
        hour, minute = int(clock[1]), int(clock[2])
        span = reading.span.strip()
        at = sent.find(span) if span and len(span) <= MAX_TEXT_CHARS else -1
        if at < 0:
            dropped["span"] += 1
            continue
        if not _anchored(span, hour):
            dropped["unanchored"] += 1
            continue
        if reading.day is not None and not 0 <= reading.day <= 7:
            dropped["day"] += 1
            continue
        tz, why = _zone_of(reading, sent, chat_zones)
        if why:
            dropped[why] += 1
            continue
        explicit = tz is not None
        tz = tz or sender_tz
        if tz is None:
            dropped["no-zone"] += 1  # the writer's zone is unknown and the message names none
            continue
        start, stop = where[at], where[at + len(span) - 1] + 1
        overlapping = [m for m in rules if m.start < stop and start < m.end]
        if any(not m.inferred and (m.local.hour, m.local.minute) != (hour, minute) for m in overlapping):
            return [], Counter(contradiction=len(answer.times))
        if overlapping:
            dropped["read-already"] += 1
            continue
        today = sent_at.astimezone(mentions.zone_for(tz)).date() + timedelta(days=reading.day or 0)
        local = datetime(today.year, today.month, today.day, hour, minute)
        end_local = None
        if end is not None:
            end_local = local.replace(hour=int(end[1]), minute=int(end[2]))
            if end_local <= local:
                end_local += timedelta(days=1)
        kept.append(mentions.Mention(
            text=text[start:stop], start=start, end=stop, local=local, tz=tz, tz_explicit=explicit,
            inferred=False, end_local=end_local, day_explicit=bool(reading.day),
            dst=dst_flag(local, mentions.zone_for(tz)),
        ))
    return kept, dropped


def _anchored(span: str, hour: int) -> bool:
    """Do the words say this hour? Digits must agree with it (19 or 7 for 19:xx; 8 too, for
    "halb 8" and "quarter to 8"); words must be ones the engine knows for clocks."""
    numbers = [int(n) for n in _NUMBER.findall(span)]
    if not numbers:
        return mentions.might_mention_time(span)
    candidates = set(numbers) | {n // 100 for n in numbers if n >= 100}
    return any(n % 12 in (hour % 12, (hour + 1) % 12) for n in candidates if n <= 24)


def _zone_of(reading: Reading, sent: str, chat_zones) -> tuple[str | None, str]:
    """(zone, "") for the zone the reading names, (None, "") for none, (None, reason) to drop it."""
    if not reading.zone:
        return None, ""
    tz = mentions.resolve_zone(reading.zone.strip(), chat_zones)
    if tz is None:
        return None, "zone"  # not a real zone: invented
    words = (reading.zone_span or "").strip()
    if not words or words not in sent:
        return None, "zone"  # a zone the message does not name
    ours = mentions.resolve_zone(words, chat_zones)
    if ours is not None and ours != tz:
        return None, "zone"  # the rules read those words as another zone
    return tz, ""


async def check_place(answer: PlaceAnswer) -> tuple[str | None, str, str]:
    """(zone, label, "") for a place reading that holds, else (None, "", reason)."""
    from teamops import commands

    zone = (answer.zone or "").strip()
    if not zone:
        return None, "", "nothing"
    if not mentions.is_iana(zone):
        return None, "", "zone"
    zone = mentions.resolve_zone(zone) or zone
    label = zone
    city = (answer.city or "").strip()[:MAX_PLACE_CHARS]
    if city:
        from teamops import cities

        known = [c for c in await commands.city_search(city, 5) if cities.fold(c.name) == cities.fold(city)]
        if known and zone not in {c.tz for c in known}:
            return None, "", "contradiction"  # the city data puts that city in another zone
        label = f"{known[0].name if known else city} ({zone})"
    return zone, label, ""


# ------------------------------------------------------------------------------------------------
# The reader: asking later, answering in the worker
# ------------------------------------------------------------------------------------------------

class ModelReader:
    def __init__(self, store, config, client=None):
        from teamops.together import TogetherClient

        self.store = store
        self.config = config
        self.client = client or TogetherClient(
            config.together_api_base, config.together_api_key, config.together_model, config.model_timeout_seconds
        )
        self.hand_over = None  # set by the wiring: gives a stored item to the worker
        self._cap_warned: set[tuple[str, str]] = set()

    # ----- from the assistant's decisions
    def wants_times(self, text: str, found) -> bool:
        return len(text) <= MAX_TEXT_CHARS and mentions.might_hold_unread_time(text, found)

    async def ask_later(self, msg: ChatMessage, key: str, kind: str, place: str = "") -> None:
        """Store the question in the inbox (once per event: a retried decision asks nothing new)
        for the worker to take in the message's model lane, shortly."""
        event = ModelReading(message=msg, kind=kind, lane=f"model:{msg.chat_id}", place=place[:MAX_PLACE_CHARS])
        item = await self.store.inbox_put(msg.platform, f"model:{key}", to_doc(event), due_in=HOLD_SECONDS)
        if item is not None and self.hand_over is not None:
            asyncio.get_running_loop().call_later(HOLD_SECONDS, self.hand_over, item)

    # ----- in the worker
    async def answer(self, assistant, event: ModelReading, key: str) -> list[Reply]:
        started = time.perf_counter()
        msg = event.message
        where = f"kind={event.kind} event={key[:40]}"
        if event.kind == "times":
            replies, source, readings, dropped = await self._times(assistant, msg)
        else:
            replies, source, readings, dropped = await self._place(assistant, event, key)
        detail = ",".join(f"{reason}:{n}" for reason, n in sorted(dropped.items()))
        log.info("model %s source=%s readings=%d discarded=%d%s replies=%d ms=%d", where, source, readings,
                 sum(dropped.values()), f" ({detail})" if detail else "", len(replies),
                 (time.perf_counter() - started) * 1000)
        return replies

    async def _times(self, assistant, msg: ChatMessage):
        # Through the directory and with the chat's member list, as for the times the rules read.
        user, chat = await asyncio.gather(
            assistant.directory.user(msg.platform, msg.user_id), assistant.chat(msg.platform, msg.chat_id)
        )
        sender_tz = (user or {}).get("tz")
        if chat.get("muted") or sender_tz is None:
            return [], "skipped:" + ("muted" if chat.get("muted") else "no-zone"), 0, Counter()
        text, _ = sent_text(msg.text)
        if not text:
            return [], "skipped:empty", 0, Counter()
        answer, source = await self.consult("times", text, f"{msg.platform}|{msg.chat_id}")
        if answer is None:
            return [], source, 0, Counter({source: 1}) if source == "garbage" else Counter()
        sent_at = datetime.fromtimestamp(msg.sent_at, timezone.utc)
        zones = assistant.chat_zones(chat, sender_tz)
        rules = mentions.find_mentions(msg.text, sender_tz, sent_at, zones)
        readings, dropped = check_times(msg.text, answer, rules, sender_tz, sent_at, zones)
        if not readings:
            return [], source, 0, dropped
        time_format = chat.get("time_format") or wording.format_of(readings)
        body = wording.conversion(readings, zones, sent_at, time_format, guessed=True,
                                  people=working_hours.people_by_zone(chat, msg.user_id))
        return ([assistant.reply(msg, body)] if body else []), source, len(readings), dropped

    async def _place(self, assistant, event: ModelReading, key: str):
        msg = event.message
        place = event.place.strip()
        if not place:
            return [], "skipped:empty", 0, Counter()
        answer, source = await self.consult("place", place, f"{msg.platform}|{msg.chat_id}")
        if answer is None:
            return [], source, 0, Counter({source: 1}) if source == "garbage" else Counter()
        tz, label, why = await check_place(answer)
        if tz is None:
            return [], source, 0, Counter({why: 1}) if why != "nothing" else Counter()
        if event.kind == "move":
            user = await assistant.directory.user(msg.platform, msg.user_id)
            replies = await assistant.relocation_offer(msg, tz, (user or {}).get("tz"), key)
        else:
            buttons = ((Button(text=f"Yes, {tz}", data=f"tz:{msg.user_id}:{tz}"),),)
            # Private, as every /tz answer: the asker's zone is theirs to tell.
            replies = [assistant.private_reply(msg, wording.place_guess(msg.user_name, place, label), buttons)]
        return replies, source, 1, Counter()

    # ----- the guard rails around one question
    async def consult(self, kind: str, text: str, chat_key: str) -> tuple[object | None, str]:
        """The model's decoded answer to one question and where it came from ("cache", "model"),
        or None and why not (a skip, a failure, or "garbage": an answer that is not the schema's).
        Never takes longer than the item's budget."""
        deadline = time.monotonic() + self.config.model_budget_seconds
        decode = _DECODERS[kind]
        key = cache_key(kind, self.config.together_model, text)
        cached = await self.store.model_cached(key)
        if cached is not None:
            try:
                return msgspec.convert(cached, _ANSWERS[kind]), "cache"
            except msgspec.ValidationError:
                pass  # stored by a build with another schema: ask again
        refused = await self._refused(chat_key)
        if refused:
            return None, refused
        from teamops.together import ModelError

        system, schema = _PROMPTS[kind]
        left = deadline - time.monotonic()
        if left <= 0:
            return None, "budget"  # the database took the time; the provider was not asked
        try:
            async with asyncio.timeout(left):
                completion = await self.client.complete(system, text, schema, MAX_TOKENS)
        except (ModelError, TimeoutError) as exc:
            if not isinstance(exc, ModelError):
                why = "timeout"
            else:
                why = f"{exc.kind}-{exc.status}" if exc.kind == "refused" else exc.kind
            if why != "busy":  # our own call slots being full says nothing about the provider
                await self._failed(why)
            return None, why
        if await self.store.breaker_ok(BREAKER):
            log.info("model breaker closed: the provider answered again")
        try:
            answer = decode(completion.content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            # Kept as "nothing here": asked again, the same text would earn the same answer.
            await self.store.model_cache_put(key, to_doc(_ANSWERS[kind]()), self.config.model_cache_days * 86400)
            return None, "garbage"
        await self.store.model_cache_put(key, to_doc(answer), self.config.model_cache_days * 86400)
        log.info("model call kind=%s ms=%d tokens_in=%d tokens_out=%d", kind, completion.ms,
                 completion.prompt_tokens, completion.completion_tokens)
        return answer, "model"

    async def _refused(self, chat_key: str) -> str:
        """Why the model may not be asked now ("" when it may): the breaker, or a daily cap."""
        state = await self.store.breaker(BREAKER)
        if state and state.get("failures", 0) >= self.config.model_breaker_failures:
            open_until = state.get("open_until")
            if open_until is not None and open_until > datetime.now(timezone.utc):
                return "breaker-open"
            # The cool-down is over: one caller, of every instance, tries again.
            if not await self.store.breaker_probe(BREAKER, self.config.model_budget_seconds):
                return "breaker-open"
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        full = await self.store.model_spend(day, chat_key, self.config.model_chat_daily_cap, self.config.model_daily_cap)
        if full is None:
            return ""
        cap = "global" if full == "global" else f"chat={chat_key.split('|', 1)[-1][:40]}"
        if (day, cap) not in self._cap_warned:  # once a day per cap and process, not per message
            self._cap_warned.add((day, cap))
            log.warning("model daily cap reached (%s): not asked again before 00:00 UTC", cap)
        return f"cap-{full}"

    async def _failed(self, why: str) -> None:
        failures = await self.store.breaker_failed(BREAKER, self.config.model_breaker_failures,
                                                   self.config.model_breaker_cooldown_seconds)
        if failures == self.config.model_breaker_failures:
            log.warning("model breaker open: %d failures in a row (last: %s); not asked for %.0fs",
                        failures, why, self.config.model_breaker_cooldown_seconds)
        elif failures > self.config.model_breaker_failures:
            log.warning("model breaker open again: the probe failed (%s); not asked for %.0fs",
                        why, self.config.model_breaker_cooldown_seconds)

    def close(self) -> None:
        self.client.close()
