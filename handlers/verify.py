"""The verification page and its API: GET /verify, POST /api/verify, GET /api/cities, /static/*.

A person arrives with a signed link from the chat, the page reads the zone from their browser, and
one click stores it. The token check and the store write live here; the page is static files.
"""

from __future__ import annotations

import asyncio
import html
import logging
from functools import lru_cache
from pathlib import Path

import falcon
import msgspec

from handlers import bad_request, decode, read_body
from teamops import mentions, tokens
from teamops.store import StorageError

log = logging.getLogger("teamops.verify")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class VerifyRequest(msgspec.Struct):
    token: str = ""
    tz_iana: str = ""


_decode_request = msgspec.json.Decoder(VerifyRequest).decode


@lru_cache(maxsize=None)
def _static(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def _secure(resp) -> None:
    for name, value in PAGE_HEADERS.items():
        resp.set_header(name, value)


def _error_page(resp, reason: str) -> None:
    resp.status = falcon.HTTP_400
    resp.content_type = falcon.MEDIA_HTML
    page = _static("verify_error.html").decode("utf-8").replace("{{reason}}", html.escape(reason))
    resp.text = page


class VerifyPage:
    def __init__(self, config, store):
        self.secret = config.verify_token_secret
        self.store = store

    async def on_get(self, req, resp):
        _secure(resp)
        token = req.get_param("token") or ""
        try:
            claims = tokens.check(self.secret, token)
        except tokens.TokenError as exc:
            _error_page(resp, str(exc))
            return
        if await self.store.token_spent(claims.n):
            _error_page(resp, "This link has already been used.")
            return
        resp.content_type = falcon.MEDIA_HTML
        resp.data = _static("verify.html")
        resp.schedule(_warm_cities)


async def _warm_cities() -> None:
    """Someone holding the page may search next: load the city table now, off the loop (~0.7 s once)."""
    from teamops import cities

    await asyncio.to_thread(cities.load)


class VerifyApi:
    def __init__(self, config, assistant, worker):
        self.secret = config.verify_token_secret
        self.max_body = config.max_body_bytes
        self.assistant = assistant
        self.worker = worker

    async def on_post(self, req, resp):
        resp.set_header("Cache-Control", "no-store")
        body = await read_body(req, self.max_body)
        if not body.strip():
            raise bad_request("missing body")
        request = decode(_decode_request, body, "verify api")
        if not request.token:
            raise bad_request("missing token")
        if not request.tz_iana:
            raise bad_request("missing tz_iana")
        try:
            claims = tokens.check(self.secret, request.token)
        except tokens.TokenError as exc:
            raise bad_request(str(exc)) from None
        tz = request.tz_iana.strip()
        if not await asyncio.to_thread(mentions.is_iana, tz):  # the first call lists tzdata's zones
            raise bad_request("unknown time zone")
        try:
            item = await self.assistant.confirm_zone(claims, tz)
        except tokens.TokenError as exc:
            raise bad_request(str(exc)) from None
        except StorageError:
            raise falcon.HTTPServiceUnavailable(title="Could not save right now; please press Confirm again.") from None
        if item is not None:
            self.worker.offer(item)
        log.info("zone verified platform=%s chat=%s user=%s", claims.p, claims.c, claims.u)
        resp.media = {"success": True, "timezone": tz}


class CitySearch:
    async def on_get(self, req, resp):
        from teamops import cities

        query = (req.get_param("q") or "")[:100]
        found = await asyncio.to_thread(cities.search, query, 10)
        resp.set_header("Cache-Control", "public, max-age=3600")
        resp.media = {"cities": [msgspec.to_builtins(city) for city in found]}


class Static:
    def __init__(self):
        # Pages are served by their routes with their security headers, never as bare files.
        self.names = {p.name for p in STATIC_DIR.glob("*") if p.suffix in CONTENT_TYPES and p.suffix != ".html" and p.is_file()}

    async def on_get(self, req, resp, name):
        if name not in self.names:
            raise falcon.HTTPNotFound(title="not found")
        resp.content_type = CONTENT_TYPES[Path(name).suffix]
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Cache-Control", "public, max-age=300")
        resp.data = _static(name)
