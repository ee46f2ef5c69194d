"""Team Ops Assistant: the app factory and the command line.

    python app.py [--host H] [--port P]        serve (PORT is honoured when --port is absent)
    python app.py try TEXT [--tz Z] [--team Z,Z] [--now ISO]   print the reply the assistant would send
    python app.py parse [--tz Z] [--now ISO] [TEXT]           time mentions as JSON (batch from stdin)
    python app.py set-webhook --url https://HOST             point Telegram at this service
    python app.py discord-commands [--guild ID]              register the Discord commands
    python app.py discord-gateway                            Discord's Gateway: times written in channels
    python app.py slack-manifest --url https://HOST          print the Slack app manifest (JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from functools import partial

import falcon.asgi

import handlers
from handlers import discord, discord_gateway, health, slack, telegram, throttle, verify, whatsapp
from teamops import config as config_module
from teamops import stopping
from teamops.assistant import Assistant, MemberSightings
from teamops.store import Store
from teamops.worker import Worker

log = logging.getLogger("teamops")


class Lifecycle:
    """Starts index creation and the inbox worker after the server is up; stops them on exit.

    Nothing here delays the first response: /health answers while indexes are still being made.
    """

    def __init__(self, store: Store, worker: Worker, prepare, after_stop=None, discover=None, warm=None,
                 scheduled=None):
        self.store = store
        self.scheduled = scheduled  # work on the assistant's own schedule (clock-change notices)
        self._scheduler: asyncio.Task | None = None
        self.warm = warm  # loads data ahead of its first use; nothing waits for it
        self.worker = worker
        self.prepare = prepare
        self.discover = discover  # platform look-ups (getMe), beside index creation
        self.after_stop = after_stop
        self._boot: asyncio.Task | None = None
        self.running = False  # the indexes exist and the worker runs: /ready says so

    async def process_startup(self, scope, event):
        self._boot = asyncio.create_task(self._start())

    async def _start(self):
        # The driver and the HTTP client take ~100 ms to import: do it beside the loop, so the
        # first /health is not kept waiting (Render's cold start is measured to that answer).
        await asyncio.to_thread(self.prepare)
        if self.warm is not None:
            self._warming = asyncio.create_task(asyncio.to_thread(self.warm))
        # The worker renders group buttons with the bot's username, so it waits for both; the
        # inbox accepts deliveries as soon as the indexes exist.
        if self.discover is not None:
            await asyncio.gather(make_indexes(self.store), asyncio.to_thread(self.discover))
        else:
            await make_indexes(self.store)
        self.worker.start()
        if self.scheduled is not None:
            self._scheduler = asyncio.create_task(self.scheduled())
        self.running = True

    async def process_shutdown(self, scope, event):
        if self._boot is not None:
            self._boot.cancel()
        self.running = False
        if self._scheduler is not None:  # lets go of its lease: another instance takes over at once
            await stopping.stop(self._scheduler)
        await self.worker.stop()
        await self.store.close()
        if self.after_stop is not None:
            # uvicorn ends the process by re-raising SIGTERM once shutdown is done, so atexit
            # handlers never run: whatever must stop with the service stops here.
            await asyncio.to_thread(self.after_stop)


async def make_indexes(store: Store) -> None:
    """Create the indexes, trying again until the database lets us (start-up goes on meanwhile)."""
    delay = 0.5
    while True:
        try:
            await store.ensure_indexes()
            return
        except Exception as exc:  # database not reachable yet: keep serving, keep trying
            # A refusal (e.g. duplicates already stored under a unique key) will not pass by
            # itself: say so loudly, the runbook has the fix. Unreachable is only a warning.
            refused = type(exc).__name__ in ("OperationFailure", "DuplicateKeyError", "WriteError")
            if refused:  # the server's message names the collection and key (ids only)
                log.error("creating indexes failed (%s: %s); retrying in %.0fs",
                          type(exc).__name__, str(exc)[:300], delay)
            else:
                log.warning("creating indexes failed (%s); retrying in %.0fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)


def build_senders(config: config_module.Config, store: Store | None = None, business=None) -> dict:
    senders = {}
    if config.telegram_bot_token:
        from teamops.senders.telegram import TelegramSender

        senders["telegram"] = TelegramSender(
            config.telegram_api_base, config.telegram_bot_token, config.send_timeout_seconds, config.telegram_bot_username
        )
    if config.discord_enabled:
        from teamops.senders.discord import DiscordSender

        senders["discord"] = DiscordSender(
            config.discord_api_base, config.discord_application_id, config.discord_bot_token, config.send_timeout_seconds,
            config.public_base_url,
        )
    if config.slack_bot_token:
        from teamops.senders.slack import SlackSender

        senders["slack"] = SlackSender(
            config.slack_api_base, config.slack_bot_token, config.send_timeout_seconds, config.slack_max_channel_members
        )
    if config.whatsapp_enabled:
        from teamops.senders.whatsapp import WhatsAppSender

        async def contact(user_id: str):  # their phone and 24-hour window, as the store has them
            return await store.user("whatsapp", user_id) if store is not None else None

        senders["whatsapp"] = WhatsAppSender(
            config.whatsapp_api_base, config.whatsapp_api_version, config.whatsapp_phone_number_id,
            config.whatsapp_access_token, config.send_timeout_seconds, business, contact,
        )
    return senders


def create_app(config: config_module.Config | None = None, after_stop=None) -> falcon.asgi.App:
    config = config or config_module.load()
    store = Store(config.mongodb_uri, config.mongodb_db, config.mongodb_write_timeout_seconds,
                  config.inbox_write_limit)
    senders: dict = {}  # filled at start-up, off the event loop (see Lifecycle)
    reader = None
    if config.model_enabled:  # the language-model fallback; without a key nothing of it exists
        from teamops.model_reading import ModelReader

        reader = ModelReader(store, config)
    assistant = Assistant(store, config, senders, reader)
    worker = Worker(store, assistant, senders, config.inbox_lease_seconds, config.inbox_max_attempts,
                    config.worker_concurrency, backlog_limit=config.inbox_backlog_limit)
    if reader is not None:
        reader.hand_over = worker.offer

        def stop_all(then=after_stop) -> None:
            reader.close()
            if then is not None:
                then()

        after_stop = stop_all
    sightings = MemberSightings(store)

    telegram_hook = telegram.TelegramWebhook(config, store, worker, sightings)
    discord_hook = discord.DiscordInteractions(config, store, worker, senders, sightings)
    workspace = slack.Workspace(config.slack_team_id)
    business = whatsapp.Business(config.whatsapp_business_number)

    def prepare() -> None:
        import pymongo.asynchronous.mongo_client  # noqa: F401  (import cost paid here, not on first use)

        senders.update(build_senders(config, store, business))
        discord_hook.load_key()

    def warm() -> None:
        # Discord's autocomplete must answer within 3 s: the city table (~0.7 s to load) is ready first.
        if config.discord_enabled:
            from teamops import cities

            cities.load()

    def discover() -> None:
        sender = senders.get("telegram")
        if sender is not None and not config.telegram_bot_username:
            # Group buttons need the username for their deep links, /cmd@name to know its name.
            try:
                name = sender.learn_username()
            except Exception as exc:  # never let a look-up keep the worker from starting
                log.warning("getMe failed: %s", type(exc).__name__)
                name = ""
            if name:
                telegram_hook.bot_username = name
                log.info("telegram bot username from getMe: @%s", name)
            else:
                log.warning("could not learn the bot's username; set TELEGRAM_BOT_USERNAME, or group "
                            "buttons carry the asker's own link")
        slack_sender = senders.get("slack")
        if slack_sender is not None:
            # The workspace the token belongs to (events from any other are ignored) and the bot's
            # own user id (its own messages are ignored).
            try:
                team_id, bot_user_id = slack_sender.identify()
            except Exception as exc:
                log.warning("slack auth.test failed: %s", type(exc).__name__)
                team_id, bot_user_id = "", ""
            workspace.bot_user_id = bot_user_id
            workspace.team_id = config.slack_team_id or team_id
            if team_id:
                log.info("slack workspace from auth.test: team=%s bot user=%s", team_id, bot_user_id)
            else:
                log.warning("slack auth.test failed; events are not filtered by workspace unless SLACK_TEAM_ID is set")

    from teamops.notices import NoticeScheduler

    lifecycle = Lifecycle(store, worker, prepare, after_stop, discover, warm, NoticeScheduler(store, config).run)
    limit = throttle.PublicRateLimit(config.public_rate_limit, config.trusted_proxy_hops)
    app = falcon.asgi.App(middleware=[lifecycle, limit])
    handlers.use_msgspec(app)
    handlers.install_error_handlers(app)
    app.add_route("/health", health.Health())
    gateway = discord_gateway.lease_name(config.discord_application_id) if config.discord_application_id else ""
    app.add_route("/ready", health.Ready(store, lambda: lifecycle.running, gateway, config.discord_gateway_lease_seconds))
    app.add_route("/hooks/telegram", telegram_hook)
    app.add_route("/hooks/discord", discord_hook)
    app.add_route("/hooks/slack/events", slack.SlackEvents(config, store, worker, workspace, sightings))
    app.add_route("/hooks/slack/commands", slack.SlackCommands(config, store, worker, workspace))
    app.add_route("/hooks/slack/interactive", slack.SlackInteractive(config, store, worker, workspace))
    app.add_route("/hooks/whatsapp", whatsapp.WhatsAppWebhook(config, store, worker, sightings, business))
    app.add_route("/verify", verify.VerifyPage(config, store))
    app.add_route("/api/verify", verify.VerifyApi(config, assistant, worker))
    app.add_route("/api/cities", verify.CitySearch())
    app.add_route("/static/{name}", verify.Static())
    return app


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="app.py", description="Run the Team Ops Assistant web service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: $PORT, else 8000")
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else int(os.environ.get("PORT") or 8000)
    env = dict(os.environ)
    env.setdefault("PORT", str(port))
    try:
        config = config_module.load(env)
    except config_module.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from teamops import logs

    logs.setup(config.log_level)
    if config.embedded:
        from dataclasses import replace

        from teamops import embedded_db

        try:
            uri, database = embedded_db.start(config.data_dir)
        except config_module.ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        config = replace(config, mongodb_uri=uri)
        after_stop = partial(embedded_db.stop, database)
    else:
        after_stop = None
    if not config.telegram_enabled:
        log.info("telegram is not configured (TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET): /hooks/telegram answers 503")
    if config.model_enabled:
        log.info("model fallback on: %s at %s", config.together_model, config.together_api_base)
    else:
        log.info("model fallback off (TOGETHER_API_KEY unset): the rules alone read times")
    if not config.discord_enabled:
        log.info("discord is not configured (DISCORD_PUBLIC_KEY, DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN): "
                 "/hooks/discord answers 503")
    if not config.slack_enabled:
        log.info("slack is not configured (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN): /hooks/slack/* answer 503")
    if not config.whatsapp_enabled:
        log.info("whatsapp is not configured (WHATSAPP_APP_SECRET, WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID): "
                 "POST /hooks/whatsapp answers 503")
    log.info("serving on http://%s:%d (health: /health)", args.host, port)
    import uvicorn

    uvicorn.run(
        create_app(config, after_stop),
        host=args.host,
        port=port,
        access_log=False,  # query strings carry verification tokens; we log our own lines
        log_level="warning",
        log_config=None,  # uvicorn's own lines (e.g. "Invalid HTTP request received.") in our format
        proxy_headers=False,  # the client address is decided in one place: handlers/throttle.py
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return 0


def gateway(argv: list[str]) -> int:
    """`discord-gateway`: one Gateway session per bot (a lease in MongoDB picks the copy that holds
    it) feeding the inbox, and a worker that answers Discord's items over REST."""
    argparse.ArgumentParser(prog="app.py discord-gateway", description=gateway.__doc__).parse_args(argv)
    try:
        config = config_module.load()
    except config_module.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if not config.discord_gateway_enabled:
        print("configuration error: discord-gateway needs DISCORD_BOT_TOKEN and DISCORD_APPLICATION_ID", file=sys.stderr)
        return 2
    if config.embedded:
        print("configuration error: discord-gateway needs MONGODB_URI (the web service's database)", file=sys.stderr)
        return 2
    from teamops import logs

    logs.setup(config.log_level)
    logging.getLogger("hikari").setLevel(max(logging.WARNING, logging.getLogger().level))
    return asyncio.run(run_gateway(config))


async def run_gateway(config: config_module.Config) -> int:
    import signal

    from teamops.lease import LeaseHolder
    from teamops.senders.discord import DiscordSender

    store = Store(config.mongodb_uri, config.mongodb_db, config.mongodb_write_timeout_seconds,
                  config.inbox_write_limit)
    senders = {"discord": DiscordSender(config.discord_api_base, config.discord_application_id, config.discord_bot_token,
                                        config.send_timeout_seconds, config.public_base_url)}
    reader = None
    if config.model_enabled:  # the same language-model fallback as the web service's
        from teamops.model_reading import ModelReader

        reader = ModelReader(store, config)
    assistant = Assistant(store, config, senders, reader)
    worker = Worker(store, assistant, senders, config.inbox_lease_seconds, config.inbox_max_attempts,
                    config.worker_concurrency, platforms={"discord"}, backlog_limit=config.inbox_backlog_limit)
    if reader is not None:
        reader.hand_over = worker.offer
    feed = discord_gateway.GatewayFeed(store, worker, MemberSightings(store))
    connection = discord_gateway.GatewayConnection(config.discord_bot_token, config.discord_api_base, feed)
    lease = LeaseHolder(store, discord_gateway.lease_name(config.discord_application_id),
                        config.discord_gateway_lease_seconds, connection.status)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(discord_gateway.loop_exception)
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("discord gateway starting as %s", lease.holder)

    async def start() -> None:
        # The Gateway library takes a second or more to import: beside the indexes, off the loop.
        await asyncio.gather(make_indexes(store), asyncio.to_thread(importlib.import_module, "hikari"))
        worker.start()  # nothing is stored before the inbox can deduplicate it
        await lease.run(connection.run)

    holding = asyncio.create_task(start())
    await stop.wait()
    log.info("discord gateway stopping")
    await stopping.stop(holding)
    await worker.stop()
    await store.close()
    if reader is not None:
        await asyncio.to_thread(reader.close)
    return 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "try":
        from teamops import cli

        return cli.try_command(argv[1:])
    if command == "parse":
        from teamops import parse_cli

        return parse_cli.main(argv[1:])
    if command == "set-webhook":
        from teamops import cli

        return cli.set_webhook(argv[1:])
    if command == "discord-commands":
        from teamops import cli

        return cli.discord_commands(argv[1:])
    if command == "discord-gateway":
        return gateway(argv[1:])
    if command == "slack-manifest":
        from teamops import cli

        return cli.slack_manifest(argv[1:])
    if command == "serve":
        argv = argv[1:]
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
