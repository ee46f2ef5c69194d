"""HTTP edges of the service: one module per endpoint family, plus what they all share here
(bounded body reading, JSON via msgspec, and errors that are always `{"error": ...}`)."""

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
        return msgspec.json.decode(stream.read())

    async def deserialize_async(self, stream, content_type, content_length):
        return msgspec.json.decode(await stream.read())

    _serialize_sync = serialize


def use_msgspec(app: falcon.asgi.App) -> None:
    handler = MsgspecJSON()
    app.req_options.media_handlers[falcon.MEDIA_JSON] = handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = handler


async def read_body(req: falcon.asgi.Request, limit: int) -> bytes:
    """The whole request body, or 413 as soon as it is known to exceed `limit` bytes."""
    if req.content_length is not None and req.content_length > limit:
        raise falcon.HTTPPayloadTooLarge(title="request body too large")
    chunks, size = [], 0
    async for chunk in req.stream:
        size += len(chunk)
        if size > limit:
            raise falcon.HTTPPayloadTooLarge(title="request body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def bad_request(message: str) -> falcon.HTTPBadRequest:
    return falcon.HTTPBadRequest(title=message)


def decode_error(exc: Exception) -> falcon.HTTPBadRequest:
    """msgspec's own words are about the shape (a field name and type), never the values."""
    if isinstance(exc, msgspec.ValidationError):
        return bad_request(f"invalid payload: {exc}")
    return bad_request("malformed JSON")


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
