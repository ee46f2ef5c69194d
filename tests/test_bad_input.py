"""Bad input on every endpoint: a 400 with a JSON error (or the endpoint's documented answer: 401
before any parsing where a platform signs its requests), never a 500, never a stack trace in the
answer, and at most one WARNING and no ERROR in the log for it.

The table is data: one `Endpoint` row per endpoint and one `BadInput` column per class of input,
with the answers that differ from a plain 400 written in the row. A new endpoint joins by adding
its row (how to send to it, a payload it accepts, which string and number fields it reads).
Signed endpoints get their bad bodies signed with the test secrets, so the bodies reach the
decoder. A property test then posts generated bodies (mutated payloads, arbitrary JSON, arbitrary
bytes) to each endpoint while the database is up, and wants no 5xx and no ERROR.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WEBHOOK_SECRET, AppProcess, FakeTelegram, app_env, http, tg_message, wait_for
from fakes.discord import APPLICATION_ID, FakeDiscord
from fakes.discord import BOT_TOKEN as DISCORD_TOKEN
from fakes.slack import BOT_TOKEN as SLACK_TOKEN
from fakes.slack import SIGNING_SECRET, FakeSlack, envelope, message, signed_headers
from fakes.whatsapp import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, FakeWhatsApp
from fakes.whatsapp import contact, notification, text_message, value
from fakes.whatsapp import signature as whatsapp_signature
from test_discord_e2e import PUBLIC_KEY, opt, signed, slash

CHANNEL, ANA = "C0GENERAL1", "U0ANA00001"
MARK = "\u2603MARK\u2603"  # stands where a class puts its bytes; json.dumps writes it as ASCII escapes
MARK_JSON = json.dumps(MARK).encode()  # b'"\\u2603MARK\\u2603"'
DEEP = b"[" * 1100 + b"]" * 1100  # ~2 KB, deeper than any decoder goes
# An id that tries to start a log line of its own, in JSON's escapes and as a form's raw bytes.
FORGING_ID_JSON = b'"Ev1\\n2026-01-01 00:00:00,000 INFO forged\\u0000\\u2028x"'
FORGING_ID_RAW = b"Ev1\n2026-01-01 00:00:00,000 INFO forged\x00\r"
LONG_ID = b"7" * 4000  # a number Python still reads, and a string far past any id
RESPONSE_URL = {"slack": ""}  # the fake Slack's response_url, once it runs


# ---------------------------------------------------------------- the running app, all platforms on
@pytest.fixture(scope="module")
def fakes():
    telegram, slack, discord, whatsapp = FakeTelegram(), FakeSlack(), FakeDiscord(), FakeWhatsApp()
    slack.add_user(ANA, "Ana", "Europe/Berlin")
    slack.add_channel(CHANNEL, [ANA])
    RESPONSE_URL["slack"] = slack.response_url("bad-input")
    yield {"telegram": telegram, "slack": slack, "discord": discord, "whatsapp": whatsapp}
    for fake in (telegram, slack, discord, whatsapp):
        fake.close()


@pytest.fixture(scope="module")
def service(mongo_server, fakes):
    """One app for the whole module (its own database, not named t_*: the per-test fixture drops
    those), with Telegram, Slack and Discord configured and the public rate limit off."""
    name = f"bad_{uuid.uuid4().hex[:10]}"
    uri = f"mongodb://127.0.0.1:{mongo_server.port}/{name}?directConnection=true"
    # PYTHONWARNINGS=default: every warning, deprecations included, shows (as a log line).
    env = app_env(uri, fakes["telegram"], INBOX_LEASE_SECONDS=2, PUBLIC_RATE_LIMIT=0, SEND_TIMEOUT_SECONDS=1,
                  PYTHONWARNINGS="default",
                  SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_API_BASE=fakes["slack"].api_base,
                  DISCORD_PUBLIC_KEY=PUBLIC_KEY, DISCORD_APPLICATION_ID=APPLICATION_ID, DISCORD_BOT_TOKEN=DISCORD_TOKEN,
                  DISCORD_API_BASE=fakes["discord"].base,
                  WHATSAPP_APP_SECRET=APP_SECRET, WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN,
                  WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_API_BASE=fakes["whatsapp"].base)
    app = AppProcess(env).start()
    yield app
    app.stop()
    from pymongo import MongoClient

    with MongoClient(f"mongodb://127.0.0.1:{mongo_server.port}/?directConnection=true") as client:
        client.drop_database(name)


# ---------------------------------------------------------------- how each endpoint is spoken to
def post(app, path: str, body: bytes, content_type: str, headers: dict | None = None):
    return http.request("POST", app.base + path, body=body, headers={"Content-Type": content_type, **(headers or {})})


def to_telegram(app, body: bytes, content_type: str = "application/json", sign: bool = True):
    secret = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET} if sign else {}
    return post(app, "/hooks/telegram", body, content_type, secret)


def to_discord(app, body: bytes, content_type: str = "application/json", sign: bool = True):
    headers = signed(body)[1] if sign else {"X-Signature-Ed25519": "00" * 64, "X-Signature-Timestamp": "1"}
    return post(app, "/hooks/discord", body, content_type, headers)


def to_whatsapp(app, body: bytes, content_type: str = "application/json", sign: bool = True):
    header = whatsapp_signature(body) if sign else "sha256=" + "0" * 64
    return post(app, "/hooks/whatsapp", body, content_type, {"X-Hub-Signature-256": header})


def to_slack(path: str):
    def send(app, body: bytes, content_type: str = "application/json", sign: bool = True):
        headers = signed_headers(body, content_type=content_type)
        if not sign:
            headers["X-Slack-Signature"] = "v0=" + "0" * 64
        return post(app, path, body, content_type, headers)

    return send


def to_public(path: str):
    def send(app, body: bytes, content_type: str = "application/json", sign: bool = True):
        return post(app, path, body, content_type)

    return send


def form(fields: dict) -> bytes:
    """A form body with only what the format itself needs escaped, so bytes a class puts in a
    value reach the service as they are (a real client may send anything)."""
    def escape(value) -> bytes:
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        return raw.replace(b"%", b"%25").replace(b"&", b"%26").replace(b"+", b"%2B")

    return b"&".join(escape(k) + b"=" + escape(v) for k, v in fields.items())


def as_form(payload: dict) -> bytes:
    return form(payload)


def as_payload_form(payload) -> bytes:
    """Slack's interactivity format: the JSON payload as the `payload` form field."""
    return form({"payload": json.dumps(payload).encode()})


def as_json(payload) -> bytes:
    return json.dumps(payload).encode()


# ---------------------------------------------------------------- payloads each endpoint accepts
def telegram_message() -> dict:
    return tg_message("sync at 15:30", user_id=4401, chat_id=-100777)


def slack_message() -> dict:
    return envelope(message("sync at 15:30", ANA, CHANNEL))


def slack_command() -> dict:
    return {"token": "legacy", "team_id": "T0TEAM0001", "channel_id": CHANNEL, "user_id": ANA, "command": "/tz",
            "text": "Berlin", "response_url": RESPONSE_URL["slack"], "trigger_id": f"{uuid.uuid4().hex[:12]}.1.x"}


def slack_press() -> dict:
    return {"type": "block_actions", "user": {"id": ANA, "name": "ana", "team_id": "T0TEAM0001"},
            "trigger_id": f"{uuid.uuid4().hex[:12]}.2.x", "team": {"id": "T0TEAM0001"},
            "container": {"type": "message", "message_ts": "1784563200.000100", "channel_id": CHANNEL},
            "channel": {"id": CHANNEL}, "response_url": RESPONSE_URL["slack"],
            "actions": [{"action_id": "press-0", "value": "tz:Europe/Berlin", "type": "button"}]}


def whatsapp_message() -> dict:
    return notification(value(messages=[text_message("sync at 15:30")], contacts=[contact()]))


WHATSAPP_MESSAGE = ("entry", 0, "changes", 0, "value", "messages", 0)


def discord_command() -> dict:
    return slash("time", [opt("text", "15:30")])


def verify_request() -> dict:
    return {"token": "not-a-real-token", "tz_iana": "Europe/Berlin"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str  # as app.py registers it
    send: Callable | None  # (app, body, content_type, sign) -> response; None: GET only
    valid: Callable[[], dict] | None = None  # a payload it accepts
    encode: Callable = as_json  # payload -> body bytes
    content_type: str = "application/json"
    text: tuple = ()  # the path of a string it reads
    number: tuple = ()  # the path of a number it reads (none: the class uses `text`)
    ident: tuple = ()  # the path of the id the sender chose for this delivery
    int_ident: bool = False  # that id is a number
    signed: bool = False  # 401 before any parsing when the signature is wrong
    get: str = ""  # GET endpoints: the path, with {q} where a class puts its query value
    answers: dict = field(default_factory=dict)  # class -> status, where it is not 400


# The answers that are not a plain 400, and why.
OUT_OF_RANGE = ("number_calendar_overflow", "number_int64_overflow")
ENDPOINTS = [
    # A date no clock could stamp is read as now and the message answered (see the test below).
    Endpoint("telegram", "/hooks/telegram", to_telegram, telegram_message, signed=True,
             text=("message", "text"), number=("message", "date"), ident=("update_id",), int_ident=True,
             answers=dict.fromkeys(OUT_OF_RANGE, 200)),
    # An interaction type we do not know: the private "not supported" note.
    Endpoint("discord", "/hooks/discord", to_discord, discord_command, signed=True,
             text=("data", "name"), number=("type",), ident=("id",),
             answers=dict.fromkeys(OUT_OF_RANGE, 200)),
    # event_time is a field we do not read.
    Endpoint("slack_events", "/hooks/slack/events", to_slack("/hooks/slack/events"), slack_message, signed=True,
             text=("event", "text"), number=("event_time",), ident=("event_id",),
             answers=dict.fromkeys((*OUT_OF_RANGE, "number_beyond_float"), 200)),
    # A form has no types, no nesting and no numbers: those are text for /tz, answered by the worker;
    # cutting its end leaves a shorter trigger id.
    Endpoint("slack_commands", "/hooks/slack/commands", to_slack("/hooks/slack/commands"), slack_command,
             signed=True, encode=as_form, content_type="application/x-www-form-urlencoded",
             text=("text",), ident=("trigger_id",),
             answers=dict.fromkeys(("deep_nesting_in_an_ignored_field", "wrong_type", *OUT_OF_RANGE,
                                    "number_beyond_float", "truncated"), 200)),
    Endpoint("slack_interactive", "/hooks/slack/interactive", to_slack("/hooks/slack/interactive"), slack_press,
             signed=True, encode=as_payload_form, content_type="application/x-www-form-urlencoded",
             text=("actions", 0, "value"), ident=("trigger_id",)),
    # The message's timestamp is a string: a number there is a wrong type. Its id (the wamid) has no
    # fixed form.
    Endpoint("whatsapp", "/hooks/whatsapp", to_whatsapp, whatsapp_message, signed=True,
             text=(*WHATSAPP_MESSAGE, "text", "body"), number=(*WHATSAPP_MESSAGE, "timestamp"),
             ident=(*WHATSAPP_MESSAGE, "id"), answers=dict.fromkeys(("id_of_another_form", "id_with_line_breaks"), 200)),
    Endpoint("verify_api", "/api/verify", to_public("/api/verify"), verify_request, text=("token",), ident=("token",)),
    # GET pages: what a bad query gets (/verify: its HTML error page).
    Endpoint("verify_page", "/verify", None, get="/verify?token={q}", answers={"get": 400}),
    Endpoint("cities", "/api/cities", None, get="/api/cities?q={q}", answers={"get": 200}),
    Endpoint("static", "/static/{name}", None, get="/static/{q}", answers={"get": 404}),
    Endpoint("health", "/health", None, get="/health?x={q}", answers={"get": 200}),
    Endpoint("ready", "/ready", None, get="/ready?x={q}", answers={"get": 200}),
    # Meta's subscription handshake: only a number is echoed; anything else is refused (403).
    Endpoint("whatsapp_handshake", "/hooks/whatsapp", None,
             get=f"/hooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge={{q}}",
             answers={"get": 403, "post": 401}),  # a POST there is the webhook: unsigned
]


# ---------------------------------------------------------------- the classes of bad input
def put(payload, path: tuple, value):
    """A copy of `payload` with `value` at `path`."""
    payload = copy.deepcopy(payload)
    node = payload
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return payload


def with_bytes(endpoint: Endpoint, path: tuple, raw: bytes) -> bytes:
    """The endpoint's valid body with the value at `path` replaced by `raw`, byte for byte."""
    body = endpoint.encode(put(endpoint.valid(), path, MARK))
    marker = MARK.encode() if endpoint.encode is as_form else MARK_JSON
    assert marker in body, "the class must land in the body"
    return body.replace(marker, raw)


@dataclass(frozen=True)
class BadInput:
    name: str
    body: Callable[[Endpoint], bytes]
    content_type: str = ""  # default: the endpoint's own
    sign: bool = True


BAD_INPUTS = [
    # The three 500s, and the classes they stand for.
    BadInput("not_utf8_in_a_string", lambda e: with_bytes(e, e.text, b'"\xff\xfe"')),
    BadInput("deep_nesting_in_an_ignored_field", lambda e: with_bytes(e, ("zz_ignored",), DEEP)),
    BadInput("number_calendar_overflow", lambda e: with_bytes(e, e.number or e.text, b"253402300800")),
    BadInput("number_int64_overflow", lambda e: with_bytes(e, e.number or e.text, str(2**63).encode())),
    BadInput("number_beyond_float", lambda e: with_bytes(e, e.number or e.text, b"1e400")),
    BadInput("wrong_type", lambda e: with_bytes(e, e.text, b'{"a":[1,{"b":null}]}')),
    # Ids longer than any platform's: refused (the Structs bound them), so none reaches a log line.
    BadInput("id_too_long", lambda e: with_bytes(e, e.ident, LONG_ID if e.int_ident else b'"' + LONG_ID + b'"')),
    # An id of a form the platform never uses (Discord's are digits: its reply handle crashed on it;
    # Slack's are letters and digits: a NUL in a user id, a key of the members, crashed the worker).
    BadInput("id_of_another_form", lambda e: with_bytes(e, e.ident, b'":1577590850945286747"')),
    # An id that would start a log line of its own.
    BadInput("id_with_line_breaks", lambda e: with_bytes(e, e.ident, FORGING_ID_RAW if e.encode is as_form
                                                         else FORGING_ID_JSON)),
    BadInput("top_level_array", lambda e: b"[1, 2]"),
    BadInput("top_level_string", lambda e: b'"text"'),
    BadInput("top_level_null", lambda e: b"null"),
    BadInput("empty_body", lambda e: b""),
    BadInput("truncated", lambda e: e.encode(e.valid())[:-3]),
    BadInput("wrong_content_type", lambda e: b"a=1&b=2" if e.encode is as_json else b'{"command":"/tz"}',
             content_type="text/plain"),
    BadInput("unsigned_garbage", lambda e: b'{"text":"\xff"' + DEEP, sign=False),
]

def expected(endpoint: Endpoint, bad: BadInput) -> int:
    if not bad.sign and endpoint.signed:
        return 401
    return endpoint.answers.get(bad.name, 400)


POSTED = [e for e in ENDPOINTS if e.send is not None]
GOTTEN = [e for e in ENDPOINTS if e.send is None]


# ---------------------------------------------------------------- what must hold for every answer
def new_log(app, since: int) -> str:
    return app.logs()[since:]


def assert_clean_answer(response, status: int, what: str):
    body = response.data.decode("utf-8", "replace")
    assert response.status == status, f"{what}: a sender saw {response.status} {body[:200]}, expected {status}"
    assert "Traceback" not in body and 'File "' not in body, f"{what}: a stack trace in the answer"
    if status >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
        assert set(json.loads(body)) == {"error"}, f"{what}: errors are {{'error': ...}}"


def assert_clean_log(text: str, what: str):
    lines = text.splitlines()
    warnings = [line for line in lines if " WARNING " in line and "teamops.worker" not in line]
    assert len(warnings) <= 1, f"{what}: more than one WARNING: {warnings}"
    assert not [line for line in lines if " ERROR " in line], f"{what}: an ERROR was logged:\n{text}"
    assert "Traceback" not in text and 'File "' not in text, f"{what}: stack frames in the log:\n{text}"
    assert "7" * 65 not in text, f"{what}: a sender's id was logged uncut"
    forged = [line for line in lines if not re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", line)]
    assert not forged, f"{what}: a line that is not one of ours: {forged}"
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]", text), f"{what}: control characters in the log"


def settle(db):
    """Wait until whatever the last request queued has been handled, so its log lines are its own."""
    def drained() -> bool:
        # Items whose delivery failed (a generated response_url) wait for a later retry: not now.
        soon = datetime.now(timezone.utc) + timedelta(seconds=1)
        return db.inbox.count_documents({"$or": [{"state": "working"},
                                                 {"state": "pending", "due_at": {"$lte": soon}}]}) == 0

    wait_for(drained, 20, what="the inbox to drain")


@pytest.fixture(scope="module")
def db_of(mongo_server):
    from pymongo import MongoClient
    from pymongo.uri_parser import parse_uri

    client = MongoClient(f"mongodb://127.0.0.1:{mongo_server.port}/?directConnection=true")

    def database(app):
        return client[parse_uri(app.env["MONGODB_URI"])["database"]]

    yield database
    client.close()


# ---------------------------------------------------------------- the table
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda b: b.name)
@pytest.mark.parametrize("endpoint", POSTED, ids=lambda e: e.name)
def test_bad_input_gets_its_answer_and_one_warning_at_most(service, db_of, endpoint, bad):
    since = len(service.logs())
    body = bad.body(endpoint)
    response = endpoint.send(service, body, bad.content_type or endpoint.content_type, bad.sign)
    what = f"{endpoint.name} × {bad.name}"
    assert_clean_answer(response, expected(endpoint, bad), what)
    if response.status == 400:
        assert json.loads(response.data)["error"], f"{what}: the 400 says why"
    settle(db_of(service))
    assert_clean_log(new_log(service, since), what)


GET_VALUES = {
    "not_utf8": "%FF%FE",
    "deep_nesting": "%5B" * 1100,
    "numbers": "1e400",
    "long": "x" * 3000,
    "empty": "",
    "traversal": "..%2F..%2Fapp.py",
}


@pytest.mark.parametrize("value", GET_VALUES.values(), ids=list(GET_VALUES))
@pytest.mark.parametrize("endpoint", GOTTEN, ids=lambda e: e.name)
def test_public_pages_answer_bad_queries_without_a_500(service, endpoint, value):
    since = len(service.logs())
    response = service.get(endpoint.get.format(q=value))
    status = endpoint.answers["get"]
    if endpoint.name == "static" and value == "":
        status = 404
    assert_clean_answer(response, status, f"{endpoint.name} ?{value[:20]}")
    # Any body to a page is a 405 with a JSON error, not a crash.
    refused = http.request("POST", service.base + endpoint.get.format(q="x"), body=DEEP,
                           headers={"Content-Type": "application/json"})
    assert_clean_answer(refused, endpoint.answers.get("post", 405), f"POST {endpoint.name}")
    assert_clean_log(new_log(service, since), endpoint.name)


def test_every_endpoint_on_the_service_has_a_row():
    """A new route joins the table (one Endpoint row), or this fails: the routes app.py registers."""
    import app as application

    source = open(application.__file__).read()
    routes = {line.split('"')[1] for line in source.splitlines() if "app.add_route(" in line}
    assert len(routes) >= 11
    assert routes <= {e.route for e in ENDPOINTS}, f"routes without a row in ENDPOINTS: {routes - {e.route for e in ENDPOINTS}}"


def test_a_line_break_a_sender_wrote_is_escaped_in_the_log(service):
    """A logged string a sender chose cannot start a line: "/tz\\n" is /tz (Slack's command name,
    trimmed) but is logged as it came."""
    since = len(service.logs())
    command = {**slack_command(), "command": "/tz\n\x0b\r\n", "text": ""}
    response = to_slack("/hooks/slack/commands")(service, as_form(command), "application/x-www-form-urlencoded")
    assert_clean_answer(response, 200, "a command name with line breaks")
    wait_for(lambda: "slack command=" in new_log(service, since), 5, what="the command's line")
    [line] = [line for line in new_log(service, since).splitlines() if "slack command=" in line]
    assert line.startswith(time.strftime("%Y-")) and "command=/tz\\n" in line, line
    assert_clean_log(new_log(service, since), "a command name with line breaks")


def test_no_warning_at_start_up_or_on_bad_requests_and_uvicorn_speaks_our_format(service):
    """Falcon's deprecated 413 class warned on the first oversized body; uvicorn wrote its own
    lines in its own format. (Last in the module's order, after every other request here.)"""
    since = len(service.logs())
    too_big = to_telegram(service, b"x" * (64 * 1024 + 1))
    assert_clean_answer(too_big, 413, "an oversized body")
    with socket.create_connection(("127.0.0.1", service.port), timeout=5) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
    wait_for(lambda: "Invalid HTTP request" in new_log(service, since), 5, what="uvicorn's line")
    log = service.logs()
    assert "Warning" not in log and "py.warnings" not in log, f"a warning was logged: {log[-3000:]}"
    [line] = [line for line in log.splitlines() if "Invalid HTTP request" in line]
    assert re.match(r"\d{4}-\d\d-\d\d [\d:,]+ WARNING uvicorn\.error Invalid HTTP request received\.$", line), line


# ---------------------------------------------------------------- the three 500s, by name
def test_a_string_that_is_not_utf8_is_a_400_on_the_public_verify_api(service):
    since = len(service.logs())
    response = post(service, "/api/verify", b'{"token":"\xff","tz_iana":"Europe/Berlin"}', "application/json")
    assert_clean_answer(response, 400, "not UTF-8 on /api/verify")
    assert "UTF-8" in json.loads(response.data)["error"]
    log = new_log(service, since)
    assert_clean_log(log, "not UTF-8 on /api/verify")
    assert "verify api: unreadable body" in log, "the one WARNING names the endpoint"


def test_json_nested_a_thousand_deep_in_an_ignored_field_is_a_400(service):
    update = telegram_message()
    body = json.dumps(update).encode()[:-1] + b', "ignored": ' + DEEP + b"}"
    assert len(body) < 2600
    since = len(service.logs())
    response = to_telegram(service, body)
    assert_clean_answer(response, 400, "deep nesting on /hooks/telegram")
    assert "nested" in json.loads(response.data)["error"]
    assert_clean_log(new_log(service, since), "deep nesting")


@pytest.mark.parametrize("date", [253402300800, 2**63], ids=["year-10000", "2**63"])
def test_a_message_date_outside_the_calendar_is_read_as_now_and_answered(service, fakes, date):
    """Decision: a Telegram date no clock could have stamped is taken as the time we received the
    message. The person still gets their conversion, of 15:30 today or tomorrow, and the worker
    never meets the date."""
    telegram = fakes["telegram"]
    chat = -100900 - (date % 97)
    # The chat has a second zone, so a time gets a reply.
    to_telegram(service, as_json(tg_message("/tz Asia/Tokyo", user_id=4501, chat_id=chat)))
    since = len(service.logs())
    update = tg_message("sync at 15:30 Europe/Berlin", user_id=4502, chat_id=chat, date=date)
    response = to_telegram(service, as_json(update))
    assert_clean_answer(response, 200, "an out-of-range date")
    [reply] = wait_for(lambda: [m for m in telegram.sent() if m.get("chat_id") == chat and "15:30" in m.get("text", "")],
                       10, what="the reply to the message with an out-of-range date")
    moments = [int(unix) for unix in re.findall(r'unix="(\d+)"', reply["text"])]
    assert moments and all(abs(unix - time.time()) < 2 * 86400 for unix in moments), \
        f"15:30 is read against today, not the year the date claims: {reply['text']}"
    wait_for(lambda: f"event={update['update_id']} " in new_log(service, since), 5, what="the worker's line")
    assert_clean_log(new_log(service, since), "out-of-range date")


# ---------------------------------------------------------------- generated bodies, database up
_leaves = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62, max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=20))
json_values = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def paths(payload, prefix=()):
    """Every place in a payload a mutation can hit."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            yield prefix + (key,)
            yield from paths(value, prefix + (key,))
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            yield prefix + (index,)
            yield from paths(value, prefix + (index,))


def mutated(payload, path: tuple, value, drop: bool):
    payload = copy.deepcopy(payload)
    node = payload
    for step in path[:-1]:
        node = node[step]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return payload


def bodies(endpoint: Endpoint):
    """Bodies for one endpoint: its payload with one place changed or dropped (so the body gets
    past the first field the decoder checks), any JSON value, any bytes, its body with bytes
    spliced in."""
    template = endpoint.valid()
    where = sorted(set(paths(template)), key=repr)
    changed = st.tuples(st.sampled_from(where), json_values, st.booleans()).map(
        lambda change: ("mutate", change))
    spliced = st.tuples(st.integers(min_value=0, max_value=2000), st.binary(min_size=1, max_size=4)).map(
        lambda splice: ("splice", splice))
    return st.one_of(changed, changed, json_values.map(lambda v: ("json", v)),
                     st.binary(max_size=300).map(lambda b: ("bytes", b)), spliced)


def render(endpoint: Endpoint, drawn) -> bytes:
    kind, value = drawn
    if kind == "mutate":
        path, new, drop = value
        payload = mutated(endpoint.valid(), path, new, drop)
        if endpoint.encode is as_form:
            return as_form({k: json.dumps(v) if not isinstance(v, str) else v for k, v in payload.items()})
        return endpoint.encode(payload)
    if kind == "json":
        if endpoint.encode is as_form:
            return as_form({"text": json.dumps(value)})
        return endpoint.encode(value)  # JSON, or Slack's payload field: any value goes
    if kind == "bytes":
        return value
    at, raw = value
    body = endpoint.encode(endpoint.valid())
    at = at % (len(body) + 1)
    return body[:at] + raw + body[at:]


@pytest.mark.parametrize("endpoint", POSTED, ids=lambda e: e.name)
def test_generated_bodies_never_get_a_5xx(service, db_of, endpoint):
    since = len(service.logs())
    statuses: list[int] = []

    @settings(max_examples=100, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(drawn=bodies(endpoint))
    def posting(drawn):
        body = render(endpoint, drawn)
        response = endpoint.send(service, body, endpoint.content_type, True)
        assert response.status < 500, f"{endpoint.name}: {response.status} {response.data[:200]!r} for {body[:300]!r}"
        assert b"Traceback" not in response.data
        statuses.append(response.status)

    posting()
    assert len(statuses) >= 90, f"only {len(statuses)} bodies were posted"
    settle(db_of(service))
    log = new_log(service, since)
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert not errors, f"{endpoint.name}: generated bodies made ERRORs:\n{log[-4000:]}"
    assert "Traceback" not in log and 'File "' not in log
