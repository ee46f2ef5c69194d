"""HTTP edges of the service: one module per endpoint family, plus what they all share here
(bounded body reading, the one way a body is decoded, and errors that are always `{"error": ...}`)."""

from __future__ import annotations

import logging

import falcon
import msgspec
from falcon.media import BaseHandler

from teamops import logs

log = logging.getLogger("teamops.http")

_encode = msgspec.json.Encoder().encode


class MsgspecJSON(BaseHandler):
    """resp.media / req.get_media() through msgspec: faster than the stdlib json module."""

    def serialize(self, media, content_type=None) -> bytes:
        return _encode(media)

    def deserialize(self, stream, content_type, content_length):
        return _media(stream.read())

    async def deserialize_async(self, stream, content_type, content_length):
        return _media(await stream.read())

    _serialize_sync = serialize


def use_msgspec(app: falcon.asgi.App) -> None:
    handler = MsgspecJSON()
    app.req_options.media_handlers[falcon.MEDIA_JSON] = handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = handler


async def read_body(req: falcon.asgi.Request, limit: int) -> bytes:
    """The whole request body, or 413 as soon as it is known to exceed `limit` bytes."""
    if req.content_length is not None and req.content_length > limit:
        raise falcon.HTTPContentTooLarge(title="request body too large")
    chunks, size = [], 0
    async for chunk in req.stream:
        size += len(chunk)
        if size > limit:
            raise falcon.HTTPContentTooLarge(title="request body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def bad_request(message: str) -> falcon.HTTPBadRequest:
    return falcon.HTTPBadRequest(title=message)


# What a body that is not a payload raises while msgspec decodes it: malformed or mistyped JSON
# (numbers out of range included), a string that is not UTF-8, nesting deeper than it goes.
UNREADABLE = (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError)


def decode_error(exc: Exception) -> falcon.HTTPBadRequest:
    """msgspec's own words are about the shape (a field name and type), never the values."""
    if isinstance(exc, msgspec.ValidationError):
        return bad_request(f"invalid payload: {str(exc)[:200]}")
    if isinstance(exc, UnicodeError):
        return bad_request("malformed JSON: a string is not UTF-8")
    if isinstance(exc, RecursionError):
        return bad_request("malformed JSON: nested too deeply")
    return bad_request("malformed JSON")


def decode(decoder, body: bytes, what: str):
    """`decoder(body)` (a msgspec decoder's `decode`), or a 400 with the reason, said once as a
    WARNING naming the endpoint (`what`) and never the body. Every endpoint decodes through here,
    so no body of any shape reaches a handler undecoded or gets past as a 500."""
    try:
        return decoder(body)
    except UNREADABLE as exc:
        error = decode_error(exc)
        log.warning("%s: unreadable body, answered 400 (%s)", what, error.title)
        raise error from None


def _media(body: bytes):
    # req.get_media(): the same 400 as every other unreadable body.
    return decode(msgspec.json.decode, body, "request media")


async def on_http_error(req, resp, ex: falcon.HTTPError, params) -> None:
    resp.status = ex.status
    resp.content_type = falcon.MEDIA_JSON
    resp.text = None
    resp.data = None
    resp.media = {"error": ex.title or "error"}
    for name, value in (ex.headers or {}).items():
        resp.set_header(name, value)


async def on_unexpected(req, resp, ex: Exception, params) -> None:
    logs.failure(log, f"unhandled error on {req.method} {req.path}", ex)
    resp.status = falcon.HTTP_500
    resp.content_type = falcon.MEDIA_JSON
    resp.text = None
    resp.data = None
    resp.media = {"error": "internal error"}


def install_error_handlers(app: falcon.asgi.App) -> None:
    app.add_error_handler(Exception, on_unexpected)
    app.add_error_handler(falcon.HTTPError, on_http_error)
