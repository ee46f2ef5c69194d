"""Liveness for Render (`/health`, never touches the database) and readiness (`/ready`)."""

from __future__ import annotations

import falcon

READY_TIMEOUT_SECONDS = 1.5


class Health:
    async def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready:
    """Ready means messages will be handled: the database answers, and start-up has made the
    indexes and started the worker (until then, 503 "starting")."""

    def __init__(self, store, running):
        self.store = store
        self.running = running

    async def on_get(self, req, resp):
        if await self.store.ping(READY_TIMEOUT_SECONDS):
            if self.running():
                resp.media = {"status": "ok", "mongodb": True}
            else:
                resp.status = falcon.HTTP_503
                resp.media = {"status": "starting", "mongodb": True}
        else:
            resp.status = falcon.HTTP_503
            resp.media = {"status": "degraded", "mongodb": False}
