"""handlers/whatsapp.py's pure parts: the signature, who wrote a message (BSUID, phone, both), which
messages are for us, and the WHATSAPP_* settings. Tables of (input, expected)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from handlers.whatsapp import Contact, Message, Profile, Text, signature_ok, to_event, writer_of
from teamops import config
from teamops.events import ButtonPress, ChatMessage, NotATime

SECRET = b"app-secret"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'
GOOD = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("header, ok", [
    (GOOD, True),
    (GOOD.upper().replace("SHA256=", "sha256="), True),  # hex digits in either case
    (GOOD.replace("sha256=", "sha1="), False),
    ("sha256=", False),
    ("", False),
    (GOOD[:-1], False),
    ("sha256=" + hmac.new(b"other", BODY, hashlib.sha256).hexdigest(), False),
    ("sha256=" + "é" * 64, False),
])
def test_signature(header, ok):
    assert signature_ok(SECRET, header, BODY) is ok


def message(**fields) -> Message:
    fields.setdefault("id", "wamid.1")
    fields.setdefault("timestamp", "1749416383")
    fields.setdefault("type", "text")
    fields.setdefault("text", Text(body="sync at 15:30"))
    return Message(**fields)


def person(name="Sheena", wa_id="", user_id="") -> Contact:
    return Contact(profile=Profile(name=name), wa_id=wa_id, user_id=user_id)


WRITERS = [
    ("both ids: keyed on the BSUID, the phone an alias",
     message(from_="16505551234", from_user_id="US.1349"), [person(wa_id="16505551234", user_id="US.1349")],
     ("US-1349", "Sheena", "16505551234", ("16505551234",))),
    ("the BSUID only in contacts: found through the phone",
     message(from_="16505551234"), [person(wa_id="16505551234", user_id="US.1349")],
     ("US-1349", "Sheena", "16505551234", ("16505551234",))),
    ("no phone (a username): the BSUID alone",
     message(from_user_id="DE.77"), [person(user_id="DE.77")],
     ("DE-77", "Sheena", "", ())),
    ("no BSUID yet: the phone",
     message(from_="16505551234"), [person(wa_id="16505551234")],
     ("16505551234", "Sheena", "16505551234", ())),
    ("a contact for someone else is not theirs",
     message(from_="4470000"), [person(wa_id="16505551234", user_id="US.1349")],
     ("4470000", "Someone", "4470000", ())),
    ("a parent BSUID keeps its parts",
     message(from_user_id="US.ENT.99"), [],
     ("US-ENT-99", "Someone", "", ())),
    ("an id not of the documented form is not taken (it would be a field path in the store)",
     message(from_="1650$set", from_user_id="US.1349"), [],
     ("US-1349", "Someone", "", ())),
]


@pytest.mark.parametrize("why, given, contacts, expected", WRITERS, ids=[w[0] for w in WRITERS])
def test_writer(why, given, contacts, expected):
    writer = writer_of(given, contacts)
    assert (writer.user_id, writer.name, writer.phone, writer.aliases) == expected, why


def test_nobody_named_means_no_writer():
    assert writer_of(message(), []) is None
    assert writer_of(message(from_="a.b", from_user_id="us.$x"), []) is None


def test_which_messages_are_for_us():
    writer = writer_of(message(from_="16505551234"), [person(wa_id="16505551234")])
    assert isinstance(to_event(message(), writer), ChatMessage)
    assert to_event(message(text=Text(body="thanks!")), writer) is None, "no time, no command"
    assert to_event(message(text=Text(body="/unknowncommand")), writer) is None
    assert to_event(message(type="image", text=None), writer) is None
    assert to_event(message(type="edit"), writer) is None, "not a documented type: ignored"
    grouped = to_event(message(group_id="Y2Fw"), writer)
    assert grouped.chat_id == "group:Y2Fw" and not grouped.private
    direct = to_event(message(), writer)
    assert direct.chat_id == "16505551234" and direct.private and direct.reply_handle == "16505551234"


def test_a_cross_or_not_a_time_on_a_message_says_it_was_none():
    from handlers.whatsapp import Context, Reaction

    writer = writer_of(message(from_="1650", from_user_id="US.1"), [])
    cross = to_event(message(type="reaction", text=None, reaction=Reaction(message_id="wamid.OUT7", emoji="\u274c")), writer)
    assert isinstance(cross, NotATime) and (cross.reply_id, cross.chat_id, cross.user_id) == ("wamid.OUT7", "US-1", "US-1")
    said = to_event(message(text=Text(body="Not a time!"), context=Context(id="wamid.OUT8"), group_id="G"), writer)
    assert isinstance(said, NotATime) and (said.reply_id, said.chat_id) == ("wamid.OUT8", "group:G")
    assert to_event(message(type="reaction", text=None, reaction=Reaction(message_id="wamid.OUT7", emoji="\U0001f44d")),
                    writer) is None, "another emoji"
    assert to_event(message(type="reaction", text=None, reaction=Reaction(message_id="wamid.OUT7")), writer) is None, \
        "a reaction taken off"
    assert to_event(message(text=Text(body="not a time")), writer) is None, "answering nothing"


def test_a_tap_is_a_button_press():
    from handlers.whatsapp import ButtonReply, Context, Interactive

    writer = writer_of(message(from_="1650", from_user_id="US.1"), [])
    tap = message(type="interactive", text=None, context=Context(id="wamid.OUT1"),
                  interactive=Interactive(type="button_reply", button_reply=ButtonReply(id="tz:US-1:Europe/Paris")))
    press = to_event(tap, writer)
    assert isinstance(press, ButtonPress)
    assert (press.data, press.press_id, press.message_id, press.user_id) == ("tz:US-1:Europe/Paris", "wamid.1", "wamid.OUT1", "US-1")
    listed = message(type="interactive", text=None, interactive=Interactive(type="list_reply"))
    assert to_event(listed, writer) is None


@pytest.mark.parametrize("env, expected", [
    ({}, ("v26.0", "", False)),
    ({"WHATSAPP_API_VERSION": "25.0", "WHATSAPP_BUSINESS_NUMBER": "+1 555-078-3881"}, ("v25.0", "15550783881", False)),
    ({"WHATSAPP_APP_SECRET": "s", "WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1"}, ("v26.0", "", True)),
    ({"WHATSAPP_APP_SECRET": "s", "WHATSAPP_ACCESS_TOKEN": "t"}, ("v26.0", "", False)),
])
def test_settings(env, expected, tmp_path):
    loaded = config.load({"DATA_DIR": str(tmp_path), **env})
    assert (loaded.whatsapp_api_version, loaded.whatsapp_business_number, loaded.whatsapp_enabled) == expected


@pytest.mark.parametrize("env", [{"WHATSAPP_API_VERSION": "latest"}, {"WHATSAPP_BUSINESS_NUMBER": "call me"}])
def test_bad_settings_stop_the_start(env, tmp_path):
    with pytest.raises(config.ConfigError):
        config.load({"DATA_DIR": str(tmp_path), **env})
