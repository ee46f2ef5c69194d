"""WhatsApp end to end: Meta's signed notifications in, inbox, worker, Cloud API sends out to a fake
Graph API on loopback. Payloads follow platforms.md §2's samples and their variants."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest

from conftest import app_env, http, wait_for
from fakes.whatsapp import (
    ACCESS_TOKEN,
    APP_SECRET,
    BUSINESS_NUMBER,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeWhatsApp,
    contact,
    notification,
    signature,
    status,
    tap,
    text_message,
    value,
)

PHONE, BSUID = "16505551234", "US.13491208655302741918"
KEY = "US-13491208655302741918"  # the BSUID as the core knows it
GROUP = "Y2FwaV9ncm91cDoxNjUwNTU1MTIzNA"
SAMPLE_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def whatsapp_env(mongo_uri: str, fake: FakeWhatsApp, **extra) -> dict:
    return app_env(mongo_uri, WHATSAPP_APP_SECRET=APP_SECRET, WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
                   WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
                   WHATSAPP_API_BASE=fake.base, INBOX_LEASE_SECONDS=2, **extra)


@pytest.fixture
def graph():
    fake = FakeWhatsApp()
    yield fake
    assert fake.problems == [], "every send must be one the Cloud API accepts"
    fake.close()


class Meta:
    """Meta's side of the conversation with a running app."""

    def __init__(self, app):
        self.app = app

    def post(self, payload: dict | bytes, secret: str = APP_SECRET, headers: dict | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        signed = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, secret)}
        return http.request("POST", self.app.base + "/hooks/whatsapp", body=body, headers={**signed, **(headers or {})})

    def send(self, *messages: dict, contacts=None, statuses=()):
        contacts = [contact()] if contacts is None else contacts
        response = self.post(notification(value(messages, contacts, statuses)))
        assert response.status == 200, response.data
        return response


@pytest.fixture
def meta(start_app, mongo_uri, graph):
    # A team zone every chat shows: a one-to-one chat has a zone to convert to besides the writer's.
    return Meta(start_app(whatsapp_env(mongo_uri, graph, TEAM_TIMEZONES="Asia/Tokyo")))


def set_zone(meta: Meta, graph: FakeWhatsApp, zone: str, phone=PHONE, bsuid=BSUID, name="Sheena Nelson"):
    before = len(graph.sent())
    meta.send(text_message(f"/tz {zone}", phone, bsuid), contacts=[contact(name, phone, bsuid)])
    return graph.wait_sent(before + 1)[before]


def _local(hhmm: str, zone: str) -> datetime:
    today = datetime.now(timezone.utc).astimezone(ZoneInfo(zone)).date()
    hour, minute = map(int, hhmm.split(":"))
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=ZoneInfo(zone))


# ----------------------------------------------------------------------------- the handshake
def test_the_handshake_echoes_only_a_numeric_challenge_as_plain_text(meta, start_app, mongo_uri):
    base = meta.app.base + "/hooks/whatsapp"
    ok = http.request("GET", f"{base}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}")
    assert ok.status == 200 and ok.data == b"1158201444"
    assert ok.headers["Content-Type"].startswith("text/plain")
    refused = [
        "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
        "?hub.mode=subscribe&hub.challenge=1158201444",
        f"?hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}",
        f"?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}",  # no challenge
        f"?hub.mode=subscribe&hub.challenge=%3Cscript%3Ealert(1)%3C/script%3E&hub.verify_token={VERIFY_TOKEN}",
        f"?hub.mode=subscribe&hub.challenge=12%3Cb%3E&hub.verify_token={VERIFY_TOKEN}",
        "",
    ]
    for query in refused:
        response = http.request("GET", base + query)
        assert response.status == 403, query
        assert b"<" not in response.data and b"script" not in response.data, query
    unconfigured = start_app(app_env(mongo_uri))
    response = http.request("GET", unconfigured.base + "/hooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x")
    assert response.status == 503


# ----------------------------------------------------------------------------- signatures, bad input
def test_unsigned_or_wrongly_signed_deliveries_are_refused(meta, graph, db, start_app, mongo_uri):
    payload = notification(value([text_message("sync at 15:30")], [contact()]))
    body = json.dumps(payload).encode()
    assert meta.post(body, secret="not-the-secret").status == 401
    plain = {"Content-Type": "application/json"}
    assert http.request("POST", meta.app.base + "/hooks/whatsapp", body=body, headers=plain).status == 401
    for header in ("sha1=" + signature(body)[7:], "sha256=", "sha256=zz", signature(body)[:-2]):
        response = http.request("POST", meta.app.base + "/hooks/whatsapp", body=body,
                                headers={**plain, "X-Hub-Signature-256": header})
        assert response.status == 401, header
        assert json.loads(response.data)["error"]
    tampered = http.request("POST", meta.app.base + "/hooks/whatsapp", body=body.replace(b"15:30", b"16:30"),
                            headers={**plain, "X-Hub-Signature-256": signature(body)})
    assert tampered.status == 401, "a body changed after signing"
    assert db.inbox.count_documents({}) == 0 and graph.sent(False) == []

    for env in (app_env(mongo_uri),
                app_env(mongo_uri, WHATSAPP_APP_SECRET=APP_SECRET, WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID),
                app_env(mongo_uri, WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID)):
        refused = Meta(start_app(env)).post(body)
        assert refused.status == 503 and json.loads(refused.data) == {"error": "whatsapp is not configured"}


def test_bad_bodies_get_clear_answers_and_unknown_parts_are_ignored(meta, graph, db):
    bad = [
        b'{"object": "whatsapp_business_account", "entry": ',  # not JSON
        b"[]",
        b'{"entry": []}',  # no object
        b'{"object": "whatsapp_business_account"}',  # no entry
        b'{"object": "whatsapp_business_account", "entry": "x"}',
        json.dumps(notification({"messages": [{"type": "text", "text": {"body": "15:30"}}]})).encode(),  # no id
        json.dumps(notification({"messages": "many"})).encode(),
        json.dumps(notification({"statuses": [{"id": 5}]})).encode(),
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"\xff"}]}}]}]}',
        b'{"object":"whatsapp_business_account","x":' + b"[" * 3000 + b"]" * 3000 + b',"entry":[]}',
    ]
    for body in bad:
        response = meta.post(body)
        assert response.status == 400, (body[:80], response.data)
        assert json.loads(response.data)["error"], body[:80]
        assert b"Traceback" not in response.data
    big = json.dumps(notification(value([text_message("x" * 70_000)], [contact()]))).encode()
    assert meta.post(big).status == 413

    ignored = [
        {"object": "page", "entry": [{"id": "1", "changes": []}]},  # another product's notification
        notification(value([{"id": "wamid.IMG1", "from": PHONE, "timestamp": "1749416383", "type": "image",
                             "image": {"id": "m1", "mime_type": "image/jpeg"}}], [contact()])),
        notification(value([{"id": "wamid.REACT1", "from": PHONE, "timestamp": "1749416383", "type": "reaction",
                             "reaction": {"message_id": "wamid.X", "emoji": "\U0001f44d"}}], [contact()])),
        notification(value([{"id": "wamid.NEW1", "from": PHONE, "timestamp": "1749416383", "type": "edit",
                             "edit": {"text": {"body": "at 15:30"}}}], [contact()])),  # a type not documented
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}]}]},
        notification({**value([text_message("sync at 15:30")], [contact()]), "brand_new_field": {"a": 1}}),
    ]
    for payload in ignored[:-1]:
        response = meta.post(payload)
        assert response.status == 200, (payload, response.data)
    assert db.inbox.count_documents({}) == 0, "nothing we serve was in them"
    assert meta.post(ignored[-1]).status == 200  # unknown fields beside a real message: read as usual
    wait_for(lambda: db.inbox.count_documents({}) == 1, what="the message stored")
    assert meta.app.get("/health").status == 200
    assert "Traceback" not in meta.app.logs()


# ----------------------------------------------------------------------------- messages and replies
def test_the_sample_message_with_a_time_gets_a_reply_to_that_message(meta, graph):
    set_zone(meta, graph, "Europe/Berlin", name="Sheena Nelson")
    before = len(graph.sent())
    sample = text_message("Can we sync at 15:30 today?", message_id=SAMPLE_WAMID)
    meta.send(sample)
    reply = graph.wait_sent(before + 1)[before]
    assert reply["recipient_type"] == "individual" and reply["to"] == PHONE, "by phone when it is known"
    assert reply["context"] == {"message_id": SAMPLE_WAMID}
    assert reply["type"] == "text" and reply["text"]["preview_url"] is False
    text = reply["text"]["body"]
    moment = _local("15:30", "Europe/Berlin")
    assert f"*{moment.astimezone(ZoneInfo('Asia/Tokyo')):%H:%M}*" in text, text
    assert "Tokyo" in text and "<" not in text, "plain text, no HTML"
    assert "on your clock" not in text, "WhatsApp cannot show the reader's own clock"
    path = graph.calls[-1]["path"]
    assert path == f"/v26.0/{PHONE_NUMBER_ID}/messages"
    assert ACCESS_TOKEN not in meta.app.logs(), "the token is never logged"


def test_every_message_of_every_change_is_handled_once(meta, graph, db):
    set_zone(meta, graph, "Europe/Berlin")
    before = len(graph.sent())
    first = text_message("standup at 9:00", message_id="wamid.MANY1")
    second = text_message("retro at 16:00", message_id="wamid.MANY2")
    third = text_message("/time 11:00", phone="14155550000", bsuid="US.222", message_id="wamid.MANY3")
    payload = notification(value([first, second], [contact()]),
                           value([third], [contact("Kenji", "14155550000", "US.222")]))
    for _ in range(3):  # Meta redelivers the whole notification when it did not see our 200
        assert meta.post(payload).status == 200
    sent = graph.wait_sent(before + 3)
    time.sleep(1.0)
    sent = graph.sent()[before:]
    assert len(sent) == 3, "three messages, three replies, however often they came"
    assert sorted(s["context"]["message_id"] for s in sent) == ["wamid.MANY1", "wamid.MANY2", "wamid.MANY3"]
    assert {s["to"] for s in sent} == {PHONE, "14155550000"}
    assert db.inbox.count_documents({"platform": "whatsapp"}) == 4  # the /tz and the three


def test_statuses_are_acknowledged_and_a_failed_reply_is_logged_by_id(meta, graph, db):
    response = meta.send(contacts=[], statuses=[status("wamid.OUT1", "sent"), status("wamid.OUT1", "delivered"),
                                                status("wamid.OUT1", "read"), status("wamid.OUT2", "played"),
                                                status("wamid.OUT3", "failed", 131047)])
    assert json.loads(response.data) == {"ok": True}
    wait_for(lambda: "whatsapp reply failed: message=wamid.OUT3 code=131047" in meta.app.logs(), what="the log line")
    assert db.inbox.count_documents({}) == 0 and graph.sent(False) == []


def test_commands_typed_as_text_and_a_button_tap_runs_its_choice(meta, graph, db):
    before = len(graph.sent())
    meta.send(text_message("/tz Springfield"))  # Missouri, Massachusetts, Oregon: a choice
    [asked] = graph.wait_sent(before + 1)[before:]
    assert asked["type"] == "interactive" and asked["interactive"]["type"] == "button"
    buttons = [b["reply"] for b in asked["interactive"]["action"]["buttons"]]
    assert len(buttons) == 3 and all(len(b["title"]) <= 20 for b in buttons), buttons
    oregon = next(b for b in buttons if b["id"].endswith("America/Los_Angeles"))
    meta.send(tap(oregon["id"], oregon["title"], buttons_message="wamid.OUT000001"))
    confirm = graph.wait_sent(before + 2)[before + 1]
    assert "America/Los_Angeles" in confirm["text"]["body"]
    stored = db.users.find_one({"platform": "whatsapp", "user_id": KEY})
    assert stored["tz"] == "America/Los_Angeles" and stored["source"] == "command"
    assert PHONE in stored["aliases"]

    count = len(graph.sent())
    meta.send(text_message("I moved to Lisbon"))
    offer = graph.wait_sent(count + 1)[count]
    assert offer["type"] == "interactive" and offer["interactive"]["type"] == "button"
    titles = [b["reply"]["title"] for b in offer["interactive"]["action"]["buttons"]]
    assert titles == ["Yes, switch", "No"]
    yes = offer["interactive"]["action"]["buttons"][0]["reply"]
    meta.send(tap(yes["id"], yes["title"]))
    graph.wait_sent(count + 2)
    wait_for(lambda: db.users.find_one({"platform": "whatsapp", "user_id": KEY})["tz"] == "Europe/Lisbon",
             what="the zone switched by the tap")
    count = len(graph.sent())
    meta.send(tap(yes["id"], yes["title"], phone="14155550000", bsuid="US.222"),
              contacts=[contact("Kenji", "14155550000", "US.222")])
    [other] = graph.wait_sent(count + 1)[count:]
    assert "someone else" in other["text"]["body"], "a tap on another person's button changes nothing"


def test_the_verification_link_comes_as_a_url_button_one_to_one(meta, graph):
    before = len(graph.sent())
    meta.send(text_message("/tz"))
    [sent] = graph.wait_sent(before + 1)[before:]
    assert sent["type"] == "interactive" and sent["interactive"]["type"] == "cta_url"
    parameters = sent["interactive"]["action"]["parameters"]
    assert parameters["url"].startswith("http://verify.example.test/verify?token=")
    assert len(parameters["display_text"]) <= 20


def test_user_text_cannot_inject_markup(meta, graph):
    before = len(graph.sent())
    meta.send(text_message("/tz *Nowhere* _x_ ~y~ ```z```"))
    [sent] = graph.wait_sent(before + 1)[before:]
    body = sent["interactive"]["body"]["text"]  # "I don't know … called “…”", with the link button
    assert "\u2217Nowhere\u2217" in body, body
    for marker in ("*Nowhere*", "_x_", "~y~", "```"):
        assert marker not in body, body


# ----------------------------------------------------------------------------- ids: BSUID, phone, groups
def test_bsuid_only_contacts_are_answered_by_recipient(meta, graph, db):
    before = len(graph.sent())
    meta.send(text_message("/tz Berlin", phone=None, bsuid="DE.777000111"), contacts=[contact("Jo", None, "DE.777000111")])
    [sent] = graph.wait_sent(before + 1)[before:]
    assert sent["recipient"] == "DE.777000111" and "to" not in sent
    assert db.users.find_one({"platform": "whatsapp", "user_id": "DE-777000111"})["tz"] == "Europe/Berlin"


def test_a_person_first_seen_by_phone_and_then_by_bsuid_stays_one_person(meta, graph, db):
    # Before usernames: only the phone number.
    set_zone(meta, graph, "Asia/Tokyo", phone="14155550000", bsuid=None, name="Kenji")
    meta.send(text_message("sync at 10:00", phone="14155550000", bsuid=None, group=GROUP),
              contacts=[contact("Kenji", "14155550000", None)])
    wait_for(lambda: (db.chats.find_one({"platform": "whatsapp", "chat_id": "group:" + GROUP}) or {})
             .get("members", {}).get("14155550000"), what="Kenji a member of the group")
    # Later the same person arrives with a BSUID beside the phone: their zone is found.
    before = len(graph.sent())
    meta.send(text_message("/tz", phone="14155550000", bsuid="US.999"), contacts=[contact("Kenji", "14155550000", "US.999")])
    [answer] = graph.wait_sent(before + 1)[before:]
    assert "Asia/Tokyo" in answer["text"]["body"], "the zone set under the phone number"
    users = list(db.users.find({"platform": "whatsapp", "$or": [{"user_id": "US-999"}, {"user_id": "14155550000"}]}))
    assert [(u["user_id"], u["tz"], u["aliases"]) for u in users] == [("US-999", "Asia/Tokyo", ["14155550000"])]
    members = db.chats.find_one({"platform": "whatsapp", "chat_id": "group:" + GROUP})["members"]
    assert "US-999" in members and "14155550000" not in members, "one member of the group, not two"
    assert members["US-999"]["tz"] == "Asia/Tokyo"


def test_a_group_gets_plain_text_and_never_someones_own_link(meta, graph, db):
    set_zone(meta, graph, "Europe/Berlin")
    before = len(graph.sent())
    # Someone with no zone who never wrote to us one-to-one: no window for a private answer.
    meta.send(text_message("deploy at 15:00 CET", phone="447700900123", bsuid="GB.4242", group=GROUP,
                           message_id="wamid.G1"),
              contacts=[contact("Ola", "447700900123", "GB.4242")])
    sent = graph.wait_sent(before + 2)[before:]
    assert all(s["recipient_type"] == "group" and s["to"] == GROUP and s["type"] == "text" for s in sent), sent
    texts = [s["text"]["body"] for s in sent]
    assert any("Berlin" in t or "CET" in t for t in texts), "the explicit-zone time, converted for the group"
    prompt = next(t for t in texts if "wa.me" in t)
    assert f"https://wa.me/{BUSINESS_NUMBER}?text=/tz" in prompt
    assert all("verify?token=" not in t for t in texts), "no personal link in a group"

    # In the private chat the link opens, "/tz" gets them a link of their own.
    count = len(graph.sent())
    meta.send(text_message("/tz", phone="447700900123", bsuid="GB.4242"), contacts=[contact("Ola", "447700900123", "GB.4242")])
    [own] = graph.wait_sent(count + 1)[count:]
    assert own["to"] == "447700900123" and own["interactive"]["type"] == "cta_url"
    token = parse_qs(urlparse(own["interactive"]["action"]["parameters"]["url"]).query)["token"][0]
    assert token


def test_a_private_answer_in_a_group_goes_one_to_one_while_the_window_is_open(meta, graph, db):
    # They wrote to us one-to-one a moment ago (no time in it: nothing to answer).
    meta.send(text_message("hello", phone="447700900123", bsuid="GB.4242"), contacts=[contact("Ola", "447700900123", "GB.4242")])
    wait_for(lambda: (db.users.find_one({"platform": "whatsapp", "user_id": "GB-4242"}) or {}).get("direct_at"),
             what="the one-to-one message noted")
    before = len(graph.sent())
    meta.send(text_message("/tz", phone="447700900123", bsuid="GB.4242", group=GROUP),
              contacts=[contact("Ola", "447700900123", "GB.4242")])
    [sent] = graph.wait_sent(before + 1)[before:]
    assert sent["recipient_type"] == "individual" and sent["to"] == "447700900123", "to them, not the group"
    assert "context" not in sent, "it answers nothing in their one-to-one chat"
    assert sent["interactive"]["type"] == "cta_url", "their own link, where only they see it"


def test_group_commands_are_answered_in_the_group(meta, graph):
    set_zone(meta, graph, "Europe/Berlin")
    before = len(graph.sent())
    meta.send(text_message("/time 15:30", group=GROUP, message_id="wamid.G2"))
    [sent] = graph.wait_sent(before + 1)[before:]
    assert sent["recipient_type"] == "group" and sent["context"] == {"message_id": "wamid.G2"}
    assert "15:30" in sent["text"]["body"]


def test_a_cross_on_a_conversion_teaches_the_chat_that_it_was_no_time(meta, graph, db):
    set_zone(meta, graph, "Europe/Berlin")
    before = len(graph.sent())
    meta.send(text_message("take the 3:16 train", group=GROUP, message_id="wamid.TRAIN1"))
    wait_for(lambda: len(graph.sent()) > before, what="the conversion")
    ours = graph.calls[-1]
    assert ours["body"]["recipient_type"] == "group"
    wamid_out = ours["answer"]["messages"][0]["id"]
    cross = {"id": "wamid.X1", "from": PHONE, "from_user_id": BSUID, "group_id": GROUP, "timestamp": str(int(time.time())),
             "type": "reaction", "reaction": {"message_id": wamid_out, "emoji": "\u274c"}}
    meta.send(cross)
    wait_for(lambda: (db.chats.find_one({"platform": "whatsapp", "chat_id": "group:" + GROUP}) or {}).get("not_times"),
             what="the shape learned")
    assert db.chats.find_one({"platform": "whatsapp", "chat_id": "group:" + GROUP})["not_times"] == ["#:##"]
    count = len(graph.calls)
    meta.send(text_message("the 4:22 train then", group=GROUP, message_id="wamid.TRAIN2"))
    time.sleep(1.5)
    assert len(graph.calls) == count, "the same shape stays silent in that chat"
    assert "reply dropped" not in meta.app.logs(), "the deletion WhatsApp cannot make is no failure"


# ----------------------------------------------------------------------------- Cloud API errors
def test_throughput_errors_are_retried_and_a_closed_window_is_dropped(meta, graph, start_app, mongo_uri, db):
    set_zone(meta, graph, "Europe/Berlin")
    before = len(graph.sent(False))
    graph.fail_next(130429)
    meta.send(text_message("/time 15:30", message_id="wamid.RATE1"))
    wait_for(lambda: len(graph.sent()) >= 2, timeout=15, what="the send after the wait")
    attempts = [c for c in graph.calls[before:] if c["body"].get("context", {}).get("message_id") == "wamid.RATE1"]
    assert [c["status"] for c in attempts] == [400, 200]
    assert attempts[1]["at"] - attempts[0]["at"] >= 3.5, "the throughput limit is waited out (4 s)"

    graph.fail_next(131047)
    count = len(graph.calls)
    meta.send(text_message("/time 16:00", message_id="wamid.WIN1"))
    wait_for(lambda: "131047" in meta.app.logs() and "reply dropped" in meta.app.logs(), what="the drop logged")
    time.sleep(1.0)
    assert len(graph.calls) == count + 1, "outside the window: never tried again"
    assert "event=wamid.WIN1" in meta.app.logs()
    assert ACCESS_TOKEN not in meta.app.logs()
