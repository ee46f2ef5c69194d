"""A fake Discord Gateway: a real websocket server on loopback (aiohttp, in its own thread) that
speaks enough of the protocol for a real client library: HELLO, IDENTIFY → READY, HEARTBEAT →
HEARTBEAT_ACK, dispatches with sequence numbers, RESUME → the missed dispatches + RESUMED, and
close codes. zlib-stream transport compression is used when the client asks for it, as Discord does.

A test drives it from its own thread: `dispatch(name, data)` sends to the live session (or keeps
it for the next RESUME when the client is away), `disconnect()` drops the connection, and the
counters (`identifies`, `resumes`, `heartbeats`) say what the client did.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
import zlib

from aiohttp import WSMsgType, web

HELLO, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HEARTBEAT_ACK, DISPATCH = 10, 1, 2, 6, 7, 9, 11, 0
DISALLOWED_INTENTS = 4014
AUTHENTICATION_FAILED = 4004
SYNC_FLUSH = b"\x00\x00\xff\xff"


class Session:
    def __init__(self, session_id: str, intents: int):
        self.id = session_id
        self.intents = intents
        self.events: list[dict] = []  # every dispatch of the session, for replay on RESUME
        self.connection: Connection | None = None

    @property
    def seq(self) -> int:
        return self.events[-1]["s"] if self.events else 0


class Connection:
    def __init__(self, ws: web.WebSocketResponse, compress: bool):
        self.ws = ws
        self.deflate = zlib.compressobj() if compress else None
        self.session: Session | None = None

    async def send(self, payload: dict) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        if self.deflate is None:
            await self.ws.send_str(data.decode())
        else:
            await self.ws.send_bytes(self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH))


class FakeGateway:
    def __init__(self, bot_token: str, bot_id: str, heartbeat_ms: int = 2000, guilds: tuple[str, ...] = ()):
        self.bot_token = bot_token
        self.bot_id = bot_id
        self.heartbeat_ms = heartbeat_ms
        self.guilds = guilds
        self.allowed_intents = -1  # an IDENTIFY asking for intents outside these is closed with 4014
        self.lock = threading.Lock()
        self.identifies: list[int] = []  # the intents of each IDENTIFY, in order
        self.resumes = 0
        self.heartbeats = 0
        self.refused = 0  # IDENTIFYs closed with 4014
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self._redeliver = 0  # on the next RESUME, also replay this many dispatches the client had seen
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._started.wait(10)
        self.url = f"ws://127.0.0.1:{self.port}"

    # ----- the server (runs on its own loop)
    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._socket)
        self._runner = web.AppRunner(app, handle_signals=False)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        connection = Connection(ws, request.query.get("compress") == "zlib-stream")
        self.connections.add(connection)
        try:
            await connection.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_ms}, "s": None, "t": None})
            async for message in ws:
                if message.type != WSMsgType.TEXT and message.type != WSMsgType.BINARY:
                    break
                payload = json.loads(message.data)
                await self._receive(connection, payload)
        finally:
            self.connections.discard(connection)
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
        return ws

    async def _receive(self, connection: Connection, payload: dict) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            with self.lock:
                self.heartbeats += 1
            await connection.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            if data.get("token") != self.bot_token:
                await connection.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
                return
            intents = int(data.get("intents", 0))
            if self.allowed_intents != -1 and intents & ~self.allowed_intents:
                with self.lock:
                    self.refused += 1
                await connection.ws.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
                return
            session = Session(uuid.uuid4().hex, intents)
            with self.lock:
                self.identifies.append(intents)
                self.sessions[session.id] = session
            await self._attach(session, connection)
            await self._send(session, "READY", {
                "v": 10, "user": {"id": self.bot_id, "username": "team-ops", "discriminator": "0", "bot": True,
                                  "global_name": None, "avatar": None},
                "guilds": [{"id": guild, "unavailable": True} for guild in self.guilds],
                "session_id": session.id, "resume_gateway_url": self.url + "/resume",
                "shard": [0, 1], "application": {"id": self.bot_id, "flags": 0},
            })
            for guild in self.guilds:
                await self._send(session, "GUILD_CREATE", {"id": guild, "name": "Ops", "unavailable": False,
                                                           "channels": [], "members": [], "threads": []})
        elif op == RESUME:
            session = self.sessions.get(data.get("session_id", ""))
            if session is None or data.get("token") != self.bot_token:
                await connection.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
                return
            with self.lock:
                self.resumes += 1
                redeliver, self._redeliver = self._redeliver, 0
            await self._attach(session, connection)
            seen = int(data.get("seq") or 0)
            for event in session.events:
                if event["s"] > seen - redeliver:
                    await connection.send(event)
            await connection.send({"op": DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}})

    async def _attach(self, session: Session, connection: Connection) -> None:
        old = session.connection
        session.connection = connection
        connection.session = session
        if old is not None and old is not connection:
            await old.ws.close(code=4000, message=b"session taken over")

    async def _send(self, session: Session, name: str, data: dict) -> None:
        event = {"op": DISPATCH, "t": name, "s": session.seq + 1, "d": data}
        session.events.append(event)
        if session.connection is not None:
            await session.connection.send(event)

    def _call(self, coroutine, timeout: float = 5.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # ----- what a test does
    @property
    def live(self) -> list[Session]:
        """Sessions with a client connected now."""
        return [s for s in list(self.sessions.values()) if s.connection is not None]

    def current(self) -> Session | None:
        """The newest session (connected or waiting for a RESUME)."""
        sessions = list(self.sessions.values())
        return sessions[-1] if sessions else None

    def dispatch(self, name: str, data: dict, session: Session | None = None) -> None:
        """Send an event to the newest session; kept for its RESUME if no client is connected."""
        target = session or self.current()
        assert target is not None, "no session: the client never identified"
        self._call(self._send(target, name, data))

    def disconnect(self, code: int = 4000, redeliver: int = 0) -> None:
        """Close every connection with `code` (4000: "unknown error", resumable). `redeliver`: on
        the next RESUME, replay that many dispatches the client had already seen, as Discord may."""
        with self.lock:
            self._redeliver = redeliver

        async def close_all():
            for connection in list(self.connections):
                await connection.ws.close(code=code, message=b"fake: forced disconnect")

        self._call(close_all())

    def wait(self, predicate, timeout: float = 15.0, what: str = "the gateway"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                value = predicate(self)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; identifies={self.identifies} "
                             f"resumes={self.resumes} live={len(self.live)}")

    def close(self) -> None:
        async def stop():
            for connection in list(self.connections):
                await connection.ws.close(code=1001)
            await self._runner.cleanup()

        try:
            self._call(stop(), 10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()


def message(content: str, channel: str, author: str, name: str = "Mason", guild: str = "", message_id: str = "",
            bot: bool = False, **extra) -> dict:
    """A MESSAGE_CREATE's `d`, shaped as Discord sends it."""
    data = {"id": message_id, "channel_id": channel, "content": content, "type": 0, "tts": False, "pinned": False,
            "author": {"id": author, "username": name.lower(), "global_name": name, "discriminator": "0",
                       "avatar": None, **({"bot": True} if bot else {})},
            "timestamp": "2026-07-20T12:00:00.000000+00:00", "edited_timestamp": None, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "flags": 0}
    if guild:
        data["guild_id"] = guild
        data["member"] = {"roles": [], "joined_at": "2017-03-13T19:19:14.040000+00:00", "deaf": False, "mute": False,
                          "nick": None}
    data.update(extra)
    return data
