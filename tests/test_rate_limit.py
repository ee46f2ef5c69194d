"""The public endpoints' per-address rate limit: a 429 with Retry-After once an address has used
its bucket, the address read from the X-Forwarded-For entry our trusted proxy wrote, webhooks
never limited, and memory bounded whatever addresses an attacker rotates through."""

from __future__ import annotations

import json
import time

import pytest

from conftest import app_env, http, tg_message
from handlers.throttle import Buckets, bucket_key

PER_MINUTE = 60  # a bucket of 60, refilled at one a second


@pytest.fixture
def behind_render(start_app, mongo_uri, telegram_api):
    """The app as on Render: one proxy in front that appends the client's address."""
    return start_app(app_env(mongo_uri, telegram_api, PUBLIC_RATE_LIMIT=PER_MINUTE, TRUSTED_PROXY_HOPS=1))


def cities(app, forwarded: str | None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return app.get("/api/cities?q=ber", headers=headers)


def exhaust(app, forwarded: str, path: str = "/static/verify.css") -> int:
    """Requests served to this client before its first 429 (the bucket refills meanwhile, at one
    a second, so a slow machine is served a few more)."""
    started = time.monotonic()
    for served in range(PER_MINUTE * 3):
        if app.get(path, headers={"X-Forwarded-For": forwarded}).status == 429:
            assert PER_MINUTE <= served <= PER_MINUTE + (time.monotonic() - started) + 1, served
            return served
    raise AssertionError("never limited")


def test_an_address_past_its_bucket_gets_429_with_retry_after_and_others_do_not(behind_render):
    app = behind_render
    exhaust(app, "203.0.113.7")  # a burst as big as the limit is served, then refused
    refused = cities(app, "203.0.113.7")
    assert refused.status == 429, "the next one is refused"
    assert int(refused.headers["Retry-After"]) >= 1
    assert json.loads(refused.data) == {"error": "too many requests; please wait a moment"}
    # What the client writes left of our proxy's entry is not trusted: rotating it buys nothing.
    assert cities(app, "198.51.100.1, 203.0.113.7").status == 429
    assert cities(app, "203.0.113.8").status == 200, "another person is not affected"
    assert app.get("/health", headers={"X-Forwarded-For": "203.0.113.7"}).status == 200, "health is not limited"
    time.sleep(1.5)
    assert cities(app, "203.0.113.7").status == 200, "a second later one more request is allowed"
    lines = [line for line in app.logs().splitlines() if "rate limited" in line]
    assert len(lines) == 1 and "client=203.0.113.7 " in lines[0] and " WARNING " in lines[0], \
        f"one WARNING per address and minute, not one per refusal: {lines}"


def test_every_public_endpoint_shares_the_bucket(behind_render):
    app = behind_render
    exhaust(app, "203.0.113.9")
    for path in ("/verify?token=x", "/api/cities?q=a", "/static/verify.js"):
        assert app.get(path, headers={"X-Forwarded-For": "203.0.113.9"}).status == 429, path
    refused = app.post("/api/verify", {"token": "x", "tz_iana": "UTC"}, {"X-Forwarded-For": "203.0.113.9"})
    assert refused.status == 429


def test_webhooks_are_never_rate_limited(behind_render, telegram_api):
    app = behind_render
    for n in range(PER_MINUTE + 20):
        update = tg_message("nothing to see", user_id=7000 + n)
        response = http.request("POST", app.base + "/hooks/telegram", body=json.dumps(update).encode(),
                                headers={"Content-Type": "application/json", "X-Forwarded-For": "149.154.167.1",
                                         "X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret_1"})
        assert response.status == 200, (n, response.status)


def test_without_trusted_proxies_the_socket_peer_is_the_client(start_app, mongo_uri):
    """Locally (TRUSTED_PROXY_HOPS=0) a forged header cannot give a client a fresh bucket."""
    app = start_app(app_env(mongo_uri, PUBLIC_RATE_LIMIT=PER_MINUTE))
    exhaust(app, "198.51.100.1")
    assert cities(app, "198.51.100.250").status == 429


def test_memory_stays_bounded_while_addresses_rotate():
    now = [0.0]
    buckets = Buckets(PER_MINUTE, kept=1000, clock=lambda: now[0])
    for n in range(50_000):
        buckets.take(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
    assert len(buckets) == 1000


def test_a_bucket_refills_at_its_rate_and_a_flood_is_logged_once_a_minute():
    now = [100.0]
    buckets = Buckets(PER_MINUTE, clock=lambda: now[0])
    for _ in range(PER_MINUTE):
        assert buckets.take("a") == (0.0, False)
    wait, say = buckets.take("a")
    assert 0 < wait <= 1.0 and say, "the first refusal is logged"
    assert buckets.take("a")[1] is False, "the next refusals are not"
    now[0] += 1.0
    assert buckets.take("a") == (0.0, False), "a second later there is a token again"
    assert buckets.take("a")[1] is False, "a flood that goes on is not logged again within the minute"
    now[0] += 60.0
    for _ in range(PER_MINUTE):
        buckets.take("a")
    assert buckets.take("a")[1] is True, "a minute later it is said again"


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one subscriber holds the whole /64
    ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 seen through an IPv6 socket
    ("not-an-address" * 20, ("not-an-address" * 20)[:64]),
])
def test_bucket_keys(address, key):
    assert bucket_key(address) == key


def test_the_settings_are_read_and_checked():
    from teamops import config

    base = {"VERIFY_TOKEN_SECRET": "x" * 20, "MONGODB_URI": "mongodb://db.invalid"}
    loaded = config.load({**base, "PUBLIC_RATE_LIMIT": "0", "TRUSTED_PROXY_HOPS": "1"})
    assert (loaded.public_rate_limit, loaded.trusted_proxy_hops) == (0, 1)
    assert (config.load(base).public_rate_limit, config.load(base).trusted_proxy_hops) == (300, 0)
    for bad in ({"PUBLIC_RATE_LIMIT": "-1"}, {"TRUSTED_PROXY_HOPS": "-2"}, {"TRUSTED_PROXY_HOPS": "one"}):
        with pytest.raises(config.ConfigError):
            config.load({**base, **bad})
