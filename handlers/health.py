"""Liveness for Render (`/health`, never touches the database) and readiness (`/ready`)."""

from __future__ import annotations

import falcon

READY_TIMEOUT_SECONDS = 1.5


class Health:
    async def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready:
    def __init__(self, store):
        self.store = store

    async def on_get(self, req, resp):
        if await self.store.ping(READY_TIMEOUT_SECONDS):
            resp.media = {"status": "ok", "mongodb": True}
        else:
            resp.status = falcon.HTTP_503
            resp.media = {"status": "degraded", "mongodb": False}
