"""The service as an operator meets it: start-up rules, the embedded database, the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, AppProcess, app_env, free_port, http, tg_message, wait_for


def _run(args, env, timeout=30):
    return subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_refuses_to_start_without_verify_secret_outside_embedded_mode(mongo_uri):
    env = app_env(mongo_uri)
    del env["VERIFY_TOKEN_SECRET"]
    result = _run(["--port", str(free_port())], env)
    assert result.returncode == 2
    assert "VERIFY_TOKEN_SECRET" in result.stderr


def test_port_comes_from_PORT_when_no_flag(mongo_uri):
    port = free_port()
    env = app_env(mongo_uri, PORT=port)
    process = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def healthy():
            try:
                return http.request("GET", f"http://127.0.0.1:{port}/health").status == 200
            except Exception:
                return False

        wait_for(healthy, 20, what="the app on $PORT")
    finally:
        process.terminate()
        process.wait(10)


def test_embedded_database_starts_keeps_data_and_stops(tmp_path, telegram_api):
    env = app_env("", telegram_api, DATA_DIR=tmp_path / "var")
    for name in ("MONGODB_URI", "VERIFY_TOKEN_SECRET"):
        env.pop(name)
    def database_running() -> bool:
        return bool(subprocess.run(["pgrep", "-f", f"secantusd-py.*{tmp_path}"], capture_output=True).stdout)

    first = AppProcess(env)
    try:
        first.start()
        assert "embedded database" in first.logs()
        assert json.loads(first.get("/ready").data)["mongodb"] is True
        first.telegram(tg_message("/tz Europe/Lisbon", user_id=5150))
        telegram_api.wait_sent(1)
        assert database_running(), "the embedded server runs as a child process"
    finally:
        first.stop()
    # Stopped by the service's own shutdown, before the service exits: nothing left behind.
    wait_for(lambda: not database_running(), 1.5, what="the embedded server to stop with the service")

    second = AppProcess(env).start()
    try:
        second.telegram(tg_message("/tz", user_id=5150))
        replies = telegram_api.wait_sent(2)
        assert "Europe/Lisbon" in replies[1]["text"], "the zone survived the restart"
        assert (tmp_path / "var" / "verify_token_secret").exists()
    finally:
        second.stop()


def test_try_prints_the_reply():
    result = _run(["try", "sync at 15:30 CET", "--tz", "Europe/Lisbon", "--team", "America/New_York,Asia/Tokyo",
                   "--now", "2026-07-01T09:00:00+00:00"], dict(os.environ))
    assert result.returncode == 0, result.stderr
    # 15:30 CET in July is Berlin summer time (UTC+2): 13:30 UTC.
    assert "09:30" in result.stdout and "New York" in result.stdout
    assert "22:30" in result.stdout and "Tokyo" in result.stdout
    assert "14:30" in result.stdout and "Lisbon" in result.stdout
    assert "on your clock" not in result.stdout, "plain text has no moments to show on a reader's clock"
    silent = _run(["try", "shipped v2.14.1", "--tz", "Europe/Lisbon"], dict(os.environ))
    assert silent.returncode == 0 and "silent" in silent.stdout


def test_set_webhook_registers_url_and_secret(mongo_uri, telegram_api):
    env = app_env(mongo_uri, telegram_api)
    result = _run(["set-webhook", "--url", "https://ops.example.com/"], env)
    assert result.returncode == 0, result.stderr
    [call] = telegram_api.sent("setWebhook")
    assert call["url"] == "https://ops.example.com/hooks/telegram"
    assert call["secret_token"] == env["TELEGRAM_WEBHOOK_SECRET"]
    assert "callback_query" in call["allowed_updates"] and "chat_member" in call["allowed_updates"]
    assert "edited_message" in call["allowed_updates"], "without it Telegram sends no edits to follow"
    assert "message_reaction" in call["allowed_updates"], "without it a \u274c on our reply never arrives"
