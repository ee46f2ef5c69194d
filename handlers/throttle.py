"""Per-address rate limits on the public endpoints (/verify, /api/…, /static/…): a token bucket per
client address, a bounded number of addresses, and a 429 with Retry-After when a bucket is empty.

Webhooks are not limited here: platforms send from few addresses, and each has its own answer for
a flood (Telegram and Slack redeliver after a non-2xx, Discord's interactions are per person).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import OrderedDict

import falcon

from teamops.logs import ident

log = logging.getLogger("teamops.http")

PUBLIC_PREFIXES = ("/verify", "/api/", "/static/")
ADDRESSES_KEPT = 10_000  # buckets beyond this push out the least recently seen (~2 MB at most)
SAID_EVERY_SECONDS = 60.0  # a refused address is logged at most this often


def client_address(req, trusted_hops: int) -> str:
    """The address a request came from. Each trusted proxy in front of us appends the address it
    saw to X-Forwarded-For, so the client is the entry `trusted_hops` from the right; whatever
    stands left of it was written by the client and proves nothing. 0 hops: the socket's peer."""
    peer = req.remote_addr or ""
    if trusted_hops <= 0:
        return peer
    hops = [hop.strip() for hop in (req.get_header("X-Forwarded-For") or "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return peer  # not through the proxy (a health check from inside, a local run)
    # Fewer entries than trusted proxies: every one of them was written by a proxy we trust.
    return hops[-trusted_hops] if len(hops) >= trusted_hops else hops[0]


def bucket_key(address: str) -> str:
    """What one bucket is kept for: an IPv4 address, or an IPv6 /64 (the block one subscriber
    holds, so rotating inside it does not buy a fresh bucket each time)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return ident(address)
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:  # IPv4 seen through an IPv6 socket
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


class Buckets:
    """`per_minute` requests a minute per key, in bursts of up to as many; memory bounded by
    `kept` keys. Single event loop: no awaits between reading and writing a bucket, no lock."""

    def __init__(self, per_minute: int, kept: int = ADDRESSES_KEPT, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.kept = kept
        self.clock = clock
        self._buckets: OrderedDict[str, list] = OrderedDict()  # key -> [tokens, at, last said]

    def take(self, key: str) -> tuple[float, bool]:
        """(0.0, False) when the request may go ahead, else (seconds until it may, whether to
        say so in the log: once a minute per key, however long a flood lasts)."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or [self.capacity, now, None]
        self._buckets[key] = bucket  # most recently seen last
        if len(self._buckets) > self.kept:
            self._buckets.popitem(last=False)
        bucket[0] = min(self.capacity, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return 0.0, False
        say = bucket[2] is None or now - bucket[2] >= SAID_EVERY_SECONDS
        if say:
            bucket[2] = now
        return (1.0 - bucket[0]) / self.rate, say

    def __len__(self) -> int:
        return len(self._buckets)


class PublicRateLimit:
    """Falcon middleware: before routing, a public path's request takes a token of its client's
    bucket or is answered 429 with Retry-After. Off when `per_minute` is 0."""

    def __init__(self, per_minute: int, trusted_hops: int):
        self.buckets = Buckets(per_minute) if per_minute > 0 else None
        self.trusted_hops = trusted_hops

    async def process_request(self, req, resp):
        if self.buckets is None or not req.path.startswith(PUBLIC_PREFIXES):
            return
        address = client_address(req, self.trusted_hops)
        wait, say = self.buckets.take(bucket_key(address))
        if not wait:
            return
        if say:  # one line per address and minute, not one per refused request
            log.warning("rate limited client=%s path=%s: answering 429 until it slows down",
                        ident(address), ident(req.path))
        raise falcon.HTTPTooManyRequests(title="too many requests; please wait a moment",
                                         retry_after=max(1, math.ceil(wait)))
