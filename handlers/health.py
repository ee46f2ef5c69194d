"""Liveness for Render (`/health`, never touches the database) and readiness (`/ready`)."""

from __future__ import annotations

import asyncio

import falcon

from teamops import lease

READY_TIMEOUT_SECONDS = 1.5


class Health:
    async def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class Ready:
    """Ready means messages will be handled: the database answers, and start-up has made the
    indexes and started the worker (until then, 503 "starting"). It also says how the Discord
    Gateway worker is (`discord_gateway`: ok, stale or off, from its heartbeat in the database);
    that is information for whoever watches, not part of this service's readiness."""

    def __init__(self, store, running, gateway_lease: str = "", gateway_lease_seconds: float = 30.0):
        self.store = store
        self.running = running
        self.gateway_lease = gateway_lease  # "" when Discord is not configured here
        self.gateway_lease_seconds = gateway_lease_seconds

    async def on_get(self, req, resp):
        if await self.store.ping(READY_TIMEOUT_SECONDS):
            gateway = await self._gateway()
            if self.running():
                resp.media = {"status": "ok", "mongodb": True, "discord_gateway": gateway}
            else:
                resp.status = falcon.HTTP_503
                resp.media = {"status": "starting", "mongodb": True, "discord_gateway": gateway}
        else:
            resp.status = falcon.HTTP_503
            resp.media = {"status": "degraded", "mongodb": False}

    async def _gateway(self) -> str:
        if not self.gateway_lease:
            return lease.OFF
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                doc = await self.store.lease(self.gateway_lease)
        except Exception:  # the ping just answered: a failure here is passing; say we cannot vouch for it
            return lease.STALE
        return lease.health(doc, self.gateway_lease_seconds)
