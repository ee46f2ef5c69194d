"""The model fallback's own parts: the checks an answer must pass (a table of answers and what
survives), the Together client against the fake server on loopback (statuses, garbage, a hang
past the timeout, busy call slots), and the guard rails on a real database (cache, caps, breaker
shared by two readers as by two instances)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import msgspec
import pytest

from fakes.together import FakeTogether
from teamops import mentions
from teamops.config import Config
from teamops.model_reading import ModelReader, PlaceAnswer, Reading, TimesAnswer, check_place, check_times, sent_text
from teamops.store import Store
from teamops.together import ModelError, TogetherClient

NOW = datetime(2025, 7, 1, 9, 0, tzinfo=timezone.utc)  # Tuesday, 11:00 in Madrid
MADRID = "Europe/Madrid"


def _read(text: str, *readings: dict, sender_tz: str | None = MADRID):
    rules = mentions.find_mentions(text, sender_tz or "UTC", NOW)
    answer = TimesAnswer(times=[Reading(**r) for r in readings])
    kept, dropped = check_times(text, answer, rules, sender_tz, NOW)
    return [(m.text, m.local.strftime("%m-%d %H:%M"), m.tz, m.tz_explicit) for m in kept], dict(dropped)


# (message, the model's readings, what is kept, what is thrown away): each row is a way a model
# answer can go wrong, and the one way it can go right.
CASES = [
    ("nos vemos tres y media", [{"span": "tres y media", "time": "15:30"}],
     [("tres y media", "07-01 15:30", MADRID, False)], {}),
    # the words must be in the message, verbatim
    ("nos vemos tres y media", [{"span": "cuatro y media", "time": "16:30"}], [], {"span": 1}),
    ("nos vemos tres y media", [{"span": "", "time": "15:30"}], [], {"span": 1}),
    # a time of day that does not exist
    ("nos vemos tres y media", [{"span": "tres y media", "time": "25:30"}], [], {"time": 1}),
    ("nos vemos tres y media", [{"span": "tres y media", "time": "3:30pm"}], [], {"time": 1}),
    # a zone that is not one, and a real zone the message never names: both invented
    ("nos vemos tres y media", [{"span": "tres y media", "time": "15:30", "zone": "Mars/Olympus", "zone_span": "tres"}],
     [], {"zone": 1}),
    ("nos vemos tres y media", [{"span": "tres y media", "time": "15:30", "zone": "Asia/Tokyo", "zone_span": "Tokyo"}],
     [], {"zone": 1}),
    ("nos vemos tres y media", [{"span": "tres y media", "time": "15:30", "zone": "Asia/Tokyo", "zone_span": None}],
     [], {"zone": 1}),
    # a zone the message names, read as the rules read those words
    ("nos vemos tres y media, estoy en Lisboa",
     [{"span": "tres y media", "time": "15:30", "zone": "Europe/Lisbon", "zone_span": "Lisboa"}],
     [("tres y media", "07-01 15:30", "Europe/Lisbon", True)], {}),
    ("nos vemos tres y media CET", [{"span": "tres y media", "time": "15:30", "zone": "Asia/Tokyo", "zone_span": "CET"}],
     [], {"zone": 1}),
    # digits that do not say that hour; words that are not a clock
    ("after lunch at 2ish or twenty to one", [{"span": "2ish", "time": "14:00"}], [], {"read-already": 1}),
    ("nos vemos 9 y media", [{"span": "9 y media", "time": "15:30"}], [], {"unanchored": 1}),
    ("nos vemos 9 y media", [{"span": "9 y media", "time": "21:30"}], [("9 y media", "07-01 21:30", MADRID, False)], {}),
    ("nos vemos tres y media después de comer", [{"span": "después de comer", "time": "14:00"}],
     [], {"unanchored": 1}),
    ("nos vemos 9 menos cuarto", [{"span": "9 menos cuarto", "time": "08:45"}],
     [("9 menos cuarto", "07-01 08:45", MADRID, False)], {}),  # the hour before the one written
    # a reading against one the rules made with certainty: the whole answer goes
    ("standup 10:00, nos vemos tres y media",
     [{"span": "10:00", "time": "11:00"}, {"span": "tres y media", "time": "15:30"}], [], {"contradiction": 2}),
    # one the rules made already is not answered twice
    ("standup 10:00, nos vemos tres y media",
     [{"span": "10:00", "time": "10:00"}, {"span": "tres y media", "time": "15:30"}],
     [("tres y media", "07-01 15:30", MADRID, False)], {"read-already": 1}),
    # days ahead, and a range past midnight
    ("mañana tres y media", [{"span": "tres y media", "time": "15:30", "day": 1}],
     [("tres y media", "07-02 15:30", MADRID, False)], {}),
    ("nos vemos tres y media", [{"span": "tres y media", "time": "15:30", "day": 30}], [], {"day": 1}),
]


@pytest.mark.parametrize("text, readings, kept, dropped", CASES)
def test_what_survives_the_checks(text, readings, kept, dropped):
    assert _read(text, *readings) == (kept, dropped)


def test_a_writer_without_a_zone_keeps_only_readings_that_name_one():
    text = "nos vemos tres y media, estoy en Lisboa; o cuatro y media"
    kept, dropped = _read(
        text,
        {"span": "tres y media", "time": "15:30", "zone": "Europe/Lisbon", "zone_span": "Lisboa"},
        {"span": "cuatro y media", "time": "16:30"},
        sender_tz=None,
    )
    assert kept == [("tres y media", "07-01 15:30", "Europe/Lisbon", True)] and dropped == {"no-zone": 1}


def test_what_is_sent_leaves_out_what_the_rules_never_read():
    text = "see `deploy at 10:00` and https://example.test/at/10:00\n> quoted at 9\nnos   vemos tres y media"
    sent, where = sent_text(text)
    assert "deploy" not in sent and "example.test" not in sent and "quoted" not in sent
    assert sent.endswith("nos vemos tres y media")
    at = sent.index("tres")
    assert text[where[at]:where[at] + 4] == "tres"


def test_a_place_reading_must_be_a_real_zone_that_agrees_with_the_city_data():
    async def check(city, zone):
        return await check_place(PlaceAnswer(city=city, zone=zone))

    assert asyncio.run(check("Lisbon", "Europe/Lisbon")) == ("Europe/Lisbon", "Lisbon (Europe/Lisbon)", "")
    assert asyncio.run(check("Lisbon", "Asia/Tokyo"))[2] == "contradiction"
    assert asyncio.run(check("Atlantis", "Atlantis/Capital"))[2] == "zone"
    assert asyncio.run(check(None, None))[2] == "nothing"
    # A city the data does not hold: a real zone is offered (a person confirms it with a button).
    assert asyncio.run(check("Xyzzyville", "Europe/Lisbon"))[0] == "Europe/Lisbon"


# ---------------------------------------------------------------- the client, on loopback
@pytest.fixture
def together():
    fake = FakeTogether()
    yield fake
    fake.close()


_made: list = []


@pytest.fixture(autouse=True)
def _closed():
    """Every client and reader a test made is closed after it (its threads, its connections)."""
    yield
    while _made:
        _made.pop().close()


def _client(fake: FakeTogether, timeout: float = 1.0) -> TogetherClient:
    client = TogetherClient(fake.base, "test-key", "small/model", timeout)
    _made.append(client)
    return client


def _reader(store, config) -> ModelReader:
    reader = ModelReader(store, config)
    _made.append(reader)
    return reader


def test_the_request_is_one_question_with_a_schema(together):
    together.answers["nos vemos tres y media"] = {"times": []}
    completion = asyncio.run(_client(together).complete("SYSTEM", "nos vemos tres y media", {"type": "object"}, 50))
    assert msgspec.json.decode(completion.content) == {"times": []}
    assert (completion.prompt_tokens, completion.completion_tokens) == (250, 30)
    [call] = together.calls
    assert call["path"] == "/v1/chat/completions"
    assert call["headers"]["Authorization"] == "Bearer test-key"
    assert call["body"]["model"] == "small/model"
    assert call["body"]["messages"] == [{"role": "system", "content": "SYSTEM"},
                                        {"role": "user", "content": "nos vemos tres y media"}]
    assert call["body"]["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}


@pytest.mark.parametrize("step, kind", [
    (("status", 429), "rate-limited"),
    (("status", 500), "server"),
    (("status", 401), "refused"),
    (("hang", 3.0), "timeout"),
])
def test_each_failure_has_its_kind(together, step, kind):
    together.next(*step)
    started = time.monotonic()
    with pytest.raises(ModelError) as failed:
        asyncio.run(_client(together, timeout=0.5).complete("S", "q", {}, 10))
    assert failed.value.kind == kind
    if kind == "timeout":
        assert time.monotonic() - started < 2.5, "the call ends at its timeout, not when the server answers"


def test_an_envelope_that_is_not_a_completion_is_a_failure(together):
    together.next("raw", "this is not json")  # the content is garbage: that is the reader's to judge
    content = asyncio.run(_client(together).complete("S", "q", {}, 10)).content
    assert content == "this is not json"


def test_a_hung_provider_holds_only_the_clients_own_slots(together):
    from teamops import together as module

    together.next("hang", 2.0, times=module.CALLS_AT_ONCE)
    client = _client(together, timeout=3.0)

    async def scenario():
        hung = [asyncio.create_task(client.complete("S", "q", {}, 10)) for _ in range(module.CALLS_AT_ONCE)]
        await asyncio.sleep(0.3)
        with pytest.raises(ModelError) as busy:  # waits a moment for a slot, then gives up
            await client.complete("S", "one more", {}, 10)
        assert busy.value.kind == "busy"
        # asyncio's own threads stay free for everything else (the platform senders use them)
        assert await asyncio.to_thread(lambda: "free") == "free"
        await asyncio.gather(*hung)

    asyncio.run(scenario())
    assert len(together.calls) == module.CALLS_AT_ONCE, "the busy call never reached the provider"


# ---------------------------------------------------------------- guard rails on a real database
def _config(fake: FakeTogether, **over) -> Config:
    values = dict(public_base_url="http://x.test", verify_token_secret="s" * 32, together_api_key="test-key",
                  together_api_base=fake.base, model_timeout_seconds=0.5, model_budget_seconds=2.0,
                  model_breaker_failures=2, model_breaker_cooldown_seconds=1.0)
    values.update(over)
    return Config(**values)


def test_the_breaker_is_shared_opens_on_failures_and_closes_after_a_good_probe(mongo_uri, together):
    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        one, two = _reader(store, _config(together)), _reader(store, _config(together))  # two instances
        together.next("status", 429)
        together.next("status", 500)
        assert (await one.consult("times", "a", "t|1"))[1] == "rate-limited"
        assert (await two.consult("times", "b", "t|1"))[1] == "server"
        calls = len(together.calls)
        assert (await one.consult("times", "c", "t|1")) == (None, "breaker-open")
        assert (await two.consult("times", "d", "t|1")) == (None, "breaker-open")
        assert len(together.calls) == calls, "an open breaker asks nobody"
        await asyncio.sleep(1.2)  # the cool-down
        together.next("status", 500)  # the probe fails: open again, for a whole cool-down
        assert (await two.consult("times", "e", "t|1"))[1] == "server"
        assert (await one.consult("times", "f", "t|1")) == (None, "breaker-open")
        await asyncio.sleep(1.2)
        answer, source = await one.consult("times", "g", "t|1")
        assert (answer, source) == (TimesAnswer(times=[]), "model")
        assert (await two.consult("times", "h", "t|1"))[1] == "model", "closed for every instance"
        await store.close()

    asyncio.run(scenario())


def test_the_cache_asks_a_phrase_once_and_caps_count_only_calls(mongo_uri, together):
    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        reader = _reader(store, _config(together, model_chat_daily_cap=2, model_daily_cap=3))
        together.answers["nos vemos tres y media"] = {"times": [{"span": "tres y media", "time": "15:30", "end": None,
                                                                "day": None, "zone": None, "zone_span": None}]}
        first = await reader.consult("times", "nos vemos tres y media", "t|1")
        again = await reader.consult("times", "nos   vemos tres y media ", "t|1")  # the same phrase, spaced out
        assert first[1] == "model" and again == (first[0], "cache")
        assert (await reader.consult("times", "another", "t|1"))[1] == "model"
        assert (await reader.consult("times", "a third", "t|1")) == (None, "cap-chat")
        assert (await reader.consult("times", "a third", "t|2"))[1] == "model"
        assert (await reader.consult("times", "a fourth", "t|3")) == (None, "cap-global")
        assert (await reader.consult("times", "nos vemos tres y media", "t|3"))[1] == "cache", "a cached phrase costs no call"
        assert len(together.calls) == 3
        await store.close()

    asyncio.run(scenario())


def test_garbage_is_thrown_away_and_not_asked_again(mongo_uri, together):
    async def scenario():
        store = Store(mongo_uri, "unused")
        await store.ensure_indexes()
        reader = _reader(store, _config(together))
        together.next("raw", '{"times": [{"span": 3}]')
        assert (await reader.consult("times", "x", "t|1")) == (None, "garbage")
        assert (await reader.consult("times", "x", "t|1")) == (TimesAnswer(times=[]), "cache")
        assert len(together.calls) == 1
        assert (await store.breaker("together")) is None, "a bad answer is not an outage"
        await store.close()

    asyncio.run(scenario())
