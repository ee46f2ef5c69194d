"""How work flows under pressure: a database that dies under traffic, and one chat flooding while
another talks. Real processes throughout: the service under uvicorn, a database server of its own
(for the outage test, so it can be killed and started again on the same port), a fake Bot API."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from conftest import app_env, free_port, http, tg_message, wait_for, WEBHOOK_SECRET

TEAM = "Asia/Tokyo"


def _secantusd() -> str:
    exe = shutil.which("secantusd-py", path=os.path.dirname(sys.executable)) or shutil.which("secantusd-py")
    if not exe:
        pytest.skip("secantusd-py is not installed (requirements-dev.txt)")
    return exe


class DatabaseProcess:
    """A SecantusDB server in a process of its own, on a port and a directory that outlive it."""

    def __init__(self, path):
        self.exe = _secantusd()
        self.port = free_port()
        self.path = path
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/flow?directConnection=true"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.exe, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(self.path),
             "--standalone", "--sync-on-commit", "--log-level", "WARNING"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import socket

        def accepts() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(accepts, 20, what="the database to accept connections")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _give_zone(uri: str, user_ids, tz: str = "Europe/Lisbon") -> None:
    from pymongo import MongoClient

    with MongoClient(uri, tz_aware=True) as client:
        db = client.get_default_database()
        for user_id in user_ids:
            db.users.update_one({"platform": "telegram", "user_id": str(user_id)},
                                {"$set": {"tz": tz, "source": "command"}}, upsert=True)


def _post(app, update: dict):
    """(status, seconds, Retry-After) of one webhook delivery."""
    import json

    started = time.monotonic()
    answer = http.request("POST", app.base + "/hooks/telegram", body=json.dumps(update).encode(),
                          headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
    return answer.status, time.monotonic() - started, answer.headers.get("Retry-After")


def _replies_by_message(telegram_api) -> Counter:
    return Counter(body["reply_parameters"]["message_id"] for body in telegram_api.sent() if "reply_parameters" in body)


def _redeliver_until_all_answered_once(app, telegram_api, refused: list[dict], sent: list[dict], seconds: float):
    """Like Telegram: what was refused comes again until it is taken; then every message sent
    has exactly one reply."""
    deadline = time.monotonic() + seconds
    while refused and time.monotonic() < deadline:
        time.sleep(0.5)
        refused = [u for u in refused if _post(app, u)[0] != 200]
    assert not refused, f"{len(refused)} never taken"
    wanted = {u["message"]["message_id"] for u in sent}
    wait_for(lambda: set(_replies_by_message(telegram_api)) >= wanted, seconds, what="a reply to every message")
    twice = {m: n for m, n in _replies_by_message(telegram_api).items() if n > 1}
    assert not twice, f"answered more than once: {twice}"


def test_database_killed_under_traffic_gets_fast_503s_and_every_message_answered_once(start_app, telegram_api, tmp_path):
    database = DatabaseProcess(tmp_path / "db")
    database.start()
    try:
        _give_zone(database.uri, [111])
        app = start_app(app_env(database.uri, telegram_api, TEAM_TIMEZONES=TEAM, INBOX_LEASE_SECONDS=2))

        updates: list[dict] = []
        accepted: set[int] = set()  # update ids answered 200: stored, the platform forgets them
        down_answers: list[tuple[int, float, str | None]] = []
        outage = threading.Event()
        stop = threading.Event()

        def traffic():  # like Telegram: one delivery after another, ~25 a second
            while not stop.is_set():
                update = tg_message(f"standup at {10 + len(updates) % 8}:15", user_id=111)
                updates.append(update)
                status, seconds, retry_after = _post(app, update)
                if status == 200:
                    accepted.add(update["update_id"])
                elif outage.is_set():
                    down_answers.append((status, seconds, retry_after))
                time.sleep(0.04)

        sender = threading.Thread(target=traffic, daemon=True)
        sender.start()
        wait_for(lambda: len(accepted) >= 20, 15, what="traffic to flow")
        database.kill()
        outage.set()
        wait_for(lambda: len(down_answers) >= 30, 20, what="refusals while the database is down")
        database.start()  # same port, same files
        restarted = time.monotonic()
        wait_for(lambda: len(accepted) > 0 and updates[-1]["update_id"] in accepted, 15,
                 what="the webhook to store again after the restart")
        noticed = time.monotonic() - restarted
        stop.set()
        sender.join(10)

        assert noticed < 5.0, f"recovery noticed after {noticed:.1f}s"
        assert all(status == 503 for status, _, _ in down_answers), down_answers
        assert all(retry_after for _, _, retry_after in down_answers), "every 503 says when to come back"
        slowest = max(seconds for _, seconds, _ in down_answers)
        assert slowest < 1.0, f"a refusal took {slowest:.2f}s"

        # Telegram redelivers what was refused: each is stored now.
        for update in updates:
            if update["update_id"] not in accepted:
                status, _, _ = _post(app, update)
                assert status == 200
                accepted.add(update["update_id"])

        wanted = {u["message"]["message_id"] for u in updates}
        wait_for(lambda: set(_replies_by_message(telegram_api)) >= wanted, 60,
                 what=f"a reply to each of {len(wanted)} messages")
        time.sleep(3)  # a lease running out after a lost write would show as a second reply by now
        twice = {m: n for m, n in _replies_by_message(telegram_api).items() if n > 1}
        assert not twice, f"answered more than once: {twice}"

        log = app.logs()
        assert "database unreachable" in log and "database reachable again" in log
        assert " ERROR " not in log, [line for line in log.splitlines() if " ERROR " in line][:5]
        assert 'File "' not in log and "Traceback" not in log, "no stack frames in the log"
    finally:
        database.stop()


def test_a_quiet_chat_is_answered_before_a_flooding_chats_backlog_is_drained(start_app, mongo_uri, telegram_api):
    flood_chat, quiet_chat = -200100, -200200
    _give_zone(mongo_uri, [111, 222])
    app = start_app(app_env(mongo_uri, telegram_api, TEAM_TIMEZONES=TEAM))
    telegram_api.delays = [0.02] * 1000  # each send takes a while, so the flood's backlog builds up
    flood = [tg_message(f"deploy at {9 + n % 9}:{n % 60:02d}", user_id=111, chat_id=flood_chat) for n in range(400)]
    for update in flood:
        assert app.telegram(update).status == 200

    def flood_answered() -> int:
        return sum(1 for b in telegram_api.sent() if b["chat_id"] == flood_chat)

    quiet = tg_message("lunch at 12:30", user_id=222, chat_id=quiet_chat)
    assert app.telegram(quiet).status == 200
    before = flood_answered()
    assert before < len(flood) - 100, "the flood should still have a backlog here"
    wait_for(lambda: any(b["chat_id"] == quiet_chat for b in telegram_api.sent()), 60, what="the quiet chat's reply")
    # Its turn came after at most a few more of the flood's items, not after the backlog.
    assert flood_answered() - before <= 10, (before, flood_answered())

    # The flood is slowed, not dropped, and its replies keep the order of its messages.
    wait_for(lambda: sum(1 for b in telegram_api.sent() if b["chat_id"] == flood_chat) >= len(flood), 120,
             what="every flood message answered")
    order = [b["reply_parameters"]["message_id"] for b in telegram_api.sent() if b["chat_id"] == flood_chat]
    assert order == [u["message"]["message_id"] for u in flood]


def test_past_the_backlog_limit_a_flooding_chat_gets_503s_and_redelivery_is_answered_once(
        start_app, mongo_uri, telegram_api):
    flood_chat, quiet_chat = -200300, -200400
    _give_zone(mongo_uri, [111, 222])
    app = start_app(app_env(mongo_uri, telegram_api, TEAM_TIMEZONES=TEAM, INBOX_BACKLOG_LIMIT=150))
    telegram_api.delays = [0.02] * 2000  # slower than the flood arrives
    flood = [tg_message(f"deploy at {9 + n % 9}:{n % 60:02d}", user_id=111, chat_id=flood_chat) for n in range(400)]
    refused = []
    for update in flood:
        status, _, retry_after = _post(app, update)
        assert status in (200, 503)
        if status == 503:
            assert retry_after, "a 503 says when to come back"
            refused.append(update)
    assert refused, "the flood went past the backlog limit without a refusal"
    quiet = tg_message("lunch at 12:30", user_id=222, chat_id=quiet_chat)
    assert _post(app, quiet)[0] == 200, "a chat with nothing waiting is still taken"

    _redeliver_until_all_answered_once(app, telegram_api, refused, flood + [quiet], 90)
    assert "backlog full" in app.logs()


def _one_slow_then_held(app, telegram_api, slow_chat: int, held_chat: int) -> tuple[dict, dict]:
    """With one worker slot: a message whose reply the API is slow to accept (in hand), then one of
    another chat, stored taken for this instance and held in memory behind it."""
    telegram_api.delays.append(4.0)
    slow = tg_message("sync at 15:30", user_id=111, chat_id=slow_chat)
    held = tg_message("standup at 9:45", user_id=111, chat_id=held_chat)
    assert _post(app, slow)[0] == 200
    wait_for(lambda: telegram_api.calls, 10, what="the slow reply to be on its way")
    assert _post(app, held)[0] == 200
    return slow, held


def test_messages_held_by_an_instance_that_stops_are_answered_by_another_at_once(start_app, mongo_uri, telegram_api):
    """A message is stored already taken by the instance whose webhook received it (saving the
    write that takes it). When that instance stops before starting it, it gives it back: another
    instance answers it at once, not after the 60 s lease."""
    _give_zone(mongo_uri, [111])
    env = app_env(mongo_uri, telegram_api, TEAM_TIMEZONES=TEAM, WORKER_CONCURRENCY=1, INBOX_LEASE_SECONDS=60)
    first = start_app(env)
    slow, held = _one_slow_then_held(first, telegram_api, -200500, -200600)
    first.stop()  # SIGTERM: the reply in hand finishes, the held message is given back
    stopped = time.monotonic()
    start_app(env)
    wanted = {slow["message"]["message_id"], held["message"]["message_id"]}
    wait_for(lambda: set(_replies_by_message(telegram_api)) >= wanted, 20, what="both messages answered")
    assert time.monotonic() - stopped < 20, "the held message did not wait for its lease"
    time.sleep(1)
    assert _replies_by_message(telegram_api) == Counter({m: 1 for m in wanted}), "each answered once"
    assert " ERROR " not in first.logs()


def test_messages_held_by_an_instance_that_crashes_are_answered_once_its_lease_runs_out(
        start_app, mongo_uri, telegram_api):
    _give_zone(mongo_uri, [111])
    env = app_env(mongo_uri, telegram_api, TEAM_TIMEZONES=TEAM, WORKER_CONCURRENCY=1, INBOX_LEASE_SECONDS=3)
    first = start_app(env)
    _, held = _one_slow_then_held(first, telegram_api, -200700, -200800)
    first.kill()  # nothing given back: the lease has to run out
    start_app(env)
    message_id = held["message"]["message_id"]
    wait_for(lambda: message_id in _replies_by_message(telegram_api), 20, what="the held message answered")
    time.sleep(1)
    assert _replies_by_message(telegram_api)[message_id] == 1


def test_many_chats_each_a_little_behind_are_refused_past_the_backlog_limit(start_app, mongo_uri, telegram_api):
    """The backlog limit counts every chat's waiting items, not only a chat far behind: 20 chats
    with a few items each past the limit get 503s (none of them holds a hundred), a chat with
    nothing waiting is still taken, and what was refused is answered once when it comes again."""
    _give_zone(mongo_uri, [111, 222])
    app = start_app(app_env(mongo_uri, telegram_api, TEAM_TIMEZONES=TEAM, INBOX_BACKLOG_LIMIT=30,
                            WORKER_CONCURRENCY=1))
    telegram_api.delays = [0.1] * 200  # ten replies a second: far slower than the deliveries
    chats = [-201000 - n for n in range(20)]
    updates = [tg_message(f"sync at {9 + n % 9}:{n % 60:02d}", user_id=111, chat_id=chats[n % 20]) for n in range(100)]
    refused = [u for u in updates if _post(app, u)[0] == 503]
    assert refused, "past the limit, chats with items waiting are refused"
    quiet = tg_message("lunch at 12:30", user_id=222, chat_id=-201999)
    assert _post(app, quiet)[0] == 200, "a chat with nothing waiting is still taken"
    _redeliver_until_all_answered_once(app, telegram_api, refused, updates + [quiet], 60)


def test_a_message_held_past_a_third_of_its_lease_is_taken_anew_and_answered_without_waiting(
        start_app, mongo_uri, telegram_api):
    """Stored taken, then held in memory behind a slow reply for longer than a third of its lease:
    it is taken anew before it is handled (so a send never starts on a lease about to run out),
    and that take succeeds at once, not only once the lease has run out."""
    _give_zone(mongo_uri, [111])
    app = start_app(app_env(mongo_uri, telegram_api, TEAM_TIMEZONES=TEAM, WORKER_CONCURRENCY=1, INBOX_LEASE_SECONDS=9))
    _, held = _one_slow_then_held(app, telegram_api, -200900, -201900)
    posted = time.monotonic()
    message_id = held["message"]["message_id"]
    wait_for(lambda: message_id in _replies_by_message(telegram_api), 15, what="the held message answered")
    assert time.monotonic() - posted < 7.0, "answered after the slow reply (4 s), not after its lease (9 s)"


def test_a_write_that_lands_after_its_503_is_answered_soon_not_after_its_lease(start_app, mongo_server, mongo_uri,
                                                                               telegram_api):
    """The database is slower than MONGODB_WRITE_TIMEOUT_SECONDS: the webhook answers 503, but the
    write was on its way and is stored, taken for the worker that gave up on it. Telegram's
    redelivery is then a duplicate (a quiet 200); the item is given back as soon as it lands, so
    the message is answered within seconds, not once its 60 s lease has run out."""
    from fakes.slow_proxy import SlowProxy

    _give_zone(mongo_uri, [111])
    proxy = SlowProxy(mongo_server.port)
    try:
        slowed = mongo_uri.replace(f":{mongo_server.port}/", f":{proxy.port}/")
        app = start_app(app_env(slowed, telegram_api, TEAM_TIMEZONES=TEAM, INBOX_LEASE_SECONDS=60))
        update = tg_message("sync at 15:30", user_id=111, chat_id=-202000)
        proxy.delay = 1.5  # past the 0.8 s the webhook waits for its write
        assert _post(app, update)[0] == 503
        time.sleep(2.0)  # the write lands meanwhile
        proxy.delay = 0.0
        assert _post(app, update)[0] == 200, "the redelivery is a duplicate: a quiet 200"
        redelivered = time.monotonic()
        message_id = update["message"]["message_id"]
        wait_for(lambda: message_id in _replies_by_message(telegram_api), 20, what="the message answered")
        assert time.monotonic() - redelivered < 15, "answered by the next scan, not after the lease"
        time.sleep(1)
        assert _replies_by_message(telegram_api)[message_id] == 1
    finally:
        proxy.close()
