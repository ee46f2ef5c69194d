"""Verification tokens: genuine ones pass; tampered, expired, foreign-secret ones do not."""

from __future__ import annotations

import base64
import json
import time

import pytest

from teamops import tokens

SECRET = "s" * 32


def _payload(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_genuine_token_names_its_user_and_chat():
    token = tokens.issue(SECRET, "telegram", "42", "-100")
    claims = tokens.check(SECRET, token)
    assert (claims.p, claims.u, claims.c) == ("telegram", "42", "-100")
    assert claims.e - time.time() == pytest.approx(24 * 3600, abs=5)


def test_full_digest_and_url_safe():
    token = tokens.issue(SECRET, "telegram", "42", "-100")
    digest = token.split(".")[1]
    assert len(base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))) == 32
    assert all(ch.isalnum() or ch in "-_." for ch in token)


def test_each_link_has_its_own_nonce():
    assert _payload(tokens.issue(SECRET, "t", "1", "2"))["n"] != _payload(tokens.issue(SECRET, "t", "1", "2"))["n"]


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # digest changed
    lambda t: t.replace(".", ""),  # no separator
    lambda t: "",  # empty
    lambda t: t + ".x",  # extra part
    lambda t: "!!!." + t.split(".")[1],  # payload not base64
])
def test_tampered_tokens_are_refused(mangle):
    token = tokens.issue(SECRET, "telegram", "42", "-100")
    with pytest.raises(tokens.TokenError, match="not valid"):
        tokens.check(SECRET, mangle(token))


def test_another_chat_cannot_be_swapped_in():
    token = tokens.issue(SECRET, "telegram", "42", "-100")
    claims = _payload(token)
    claims["c"] = "-999"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "." + token.split(".")[1]
    with pytest.raises(tokens.TokenError):
        tokens.check(SECRET, forged)


def test_expired_after_24_hours():
    issued_at = time.time() - 24 * 3600 - 1
    token = tokens.issue(SECRET, "telegram", "42", "-100", now=issued_at)
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.check(SECRET, token)
    assert tokens.check(SECRET, token, now=issued_at + 60).u == "42"


def test_rotated_secret_invalidates_old_links():
    token = tokens.issue(SECRET, "telegram", "42", "-100")
    with pytest.raises(tokens.TokenError):
        tokens.check("another-secret-0123456789", token)
