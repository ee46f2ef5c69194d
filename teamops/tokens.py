"""Verification-link tokens: signed, bound to one user in one chat, short-lived, single use.

Format: base64url(payload JSON) "." base64url(HMAC-SHA256(secret, payload bytes)), full digest.
The payload names the platform, user, chat, expiry and a random nonce; the nonce is what the
store records when the link is spent, so a link works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

import msgspec

LIFETIME_SECONDS = 24 * 3600


class TokenClaims(msgspec.Struct, frozen=True):
    p: str  # platform
    u: str  # user id
    c: str  # chat id
    e: int  # expires at, unix seconds
    n: str  # nonce


class TokenError(Exception):
    """Why a token is refused, in words fit for the person holding the link."""


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(TokenClaims).decode


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(secret: str, platform: str, user_id: str, chat_id: str, now: float | None = None) -> str:
    now = time.time() if now is None else now
    claims = TokenClaims(p=platform, u=user_id, c=chat_id, e=int(now) + LIFETIME_SECONDS, n=secrets.token_urlsafe(12))
    payload = _encode(claims)
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(digest)}"


def chat_code(secret: str, platform: str, chat_id: str) -> str:
    """A code that lets anyone who holds it ask, in a private chat, for a link for this chat:
    "tz<chat id>_<signature>" (Telegram start parameters allow A-Z a-z 0-9 _ -, 64 at most).
    Signed, so nobody can get links bound to a chat whose code they were never shown."""
    return f"tz{chat_id}_{_chat_signature(secret, platform, chat_id)}"


def chat_from_code(secret: str, platform: str, code: str) -> str | None:
    """The chat id in a genuine chat code, else None."""
    if not code.startswith("tz") or code.count("_") != 1 or len(code) > 64:
        return None
    chat_id, signature = code[2:].split("_")
    if not re.fullmatch(r"-?[0-9A-Za-z]{1,24}", chat_id):  # Telegram's numbers, Slack's C0123ABCD
        return None
    if not hmac.compare_digest(signature, _chat_signature(secret, platform, chat_id)):
        return None
    return chat_id


def _chat_signature(secret: str, platform: str, chat_id: str) -> str:
    digest = hmac.new(secret.encode(), f"chat-code:{platform}:{chat_id}".encode(), hashlib.sha256).digest()
    return _b64(digest[:12]).replace("_", "-")  # 96 bits; "_" is our separator


def check(secret: str, token: str, now: float | None = None) -> TokenClaims:
    """The token's claims if it is genuine and unexpired; TokenError otherwise. Spent-ness is the store's."""
    if not token or len(token) > 1024 or token.count(".") != 1:
        raise TokenError("This link is not valid.")
    payload_part, digest_part = token.split(".")
    try:
        payload = _unb64(payload_part)
        digest = _unb64(digest_part)
    except (ValueError, TypeError):
        raise TokenError("This link is not valid.") from None
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(digest, expected):
        raise TokenError("This link is not valid.")
    try:
        claims = _decode(payload)
    except msgspec.DecodeError:
        raise TokenError("This link is not valid.") from None
    if (time.time() if now is None else now) >= claims.e:
        raise TokenError("This link has expired.")
    return claims
