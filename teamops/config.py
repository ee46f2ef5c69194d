"""Configuration: read once from the environment into one frozen object.

Every setting has one name, one default, and a row in the README's configuration table.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(Exception):
    """The environment cannot run the service (said once, at start-up, then exit)."""


def _number(env: dict, name: str, default, cast):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return cast(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {'whole number' if cast is int else 'number'}, got {raw!r}") from None


def _positive(env: dict, name: str, default: float) -> float:
    value = _number(env, name, default, float)
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0, got {value}")
    return value


@dataclass(frozen=True)
class Config:
    mongodb_uri: str = ""  # empty: start the embedded server (local runs only)
    mongodb_db: str = "team_ops"
    data_dir: str = "var"
    public_base_url: str = "http://localhost:8000"
    verify_token_secret: str = ""
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_bot_username: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    discord_public_key: str = ""  # hex Ed25519 key from the Developer Portal: verifies /hooks/discord
    discord_application_id: str = ""
    discord_bot_token: str = ""
    discord_api_base: str = "https://discord.com/api/v10"
    # `discord-gateway`: how long one copy's hold on the Gateway session lasts without renewal (it
    # renews every third of it); a copy that dies is replaced within about 4/3 of this.
    discord_gateway_lease_seconds: float = 30.0
    slack_signing_secret: str = ""
    slack_bot_token: str = ""
    slack_api_base: str = "https://slack.com/api"
    slack_team_id: str = ""  # empty: learned from auth.test at start-up
    slack_max_channel_members: int = 500
    whatsapp_app_secret: str = ""  # the Meta app's App Secret: verifies X-Hub-Signature-256
    whatsapp_verify_token: str = ""  # ours, given to Meta with the callback URL (the GET handshake)
    whatsapp_access_token: str = ""  # a System User's permanent token with whatsapp_business_messaging
    whatsapp_phone_number_id: str = ""  # the business number's id (not the number)
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v26.0"
    whatsapp_business_number: str = ""  # digits; empty: learned from the webhooks' display_phone_number
    team_timezones: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    # Requests a minute per client address on /verify, /api/… and /static/… (bursts of as many);
    # 0 turns the limit off.
    public_rate_limit: int = 300
    # Proxies in front of the service that append to X-Forwarded-For (Render: 1); 0 trusts no
    # header and takes the socket's peer as the client.
    trusted_proxy_hops: int = 0
    inbox_lease_seconds: float = 60.0
    inbox_max_attempts: int = 8
    # A webhook's inbox write: how long it may take (server selection included) before the webhook
    # answers 503, and how many may wait at once in one process before more are refused at once.
    mongodb_write_timeout_seconds: float = 0.8
    inbox_write_limit: int = 1000
    # Items one process knows to be waiting past which chats that already wait get 503s.
    inbox_backlog_limit: int = 1000
    worker_concurrency: int = 16  # inbox items handled at once in one process (each of another lane)
    send_timeout_seconds: float = 10.0
    # The model fallback (teamops/model_reading.py): off without a key.
    together_api_key: str = ""
    together_api_base: str = "https://api.together.xyz/v1"
    together_model: str = "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"
    model_timeout_seconds: float = 4.0
    model_budget_seconds: float = 6.0
    model_daily_cap: int = 2000
    model_chat_daily_cap: int = 50
    model_breaker_failures: int = 5
    model_breaker_cooldown_seconds: float = 300.0
    model_cache_days: float = 30.0
    log_level: str = "INFO"
    embedded: bool = field(default=False)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def whatsapp_enabled(self) -> bool:
        """What POST /hooks/whatsapp needs: the secret to check deliveries and what replies need."""
        return bool(self.whatsapp_app_secret and self.whatsapp_access_token and self.whatsapp_phone_number_id)

    @property
    def model_enabled(self) -> bool:
        return bool(self.together_api_key)

    @property
    def discord_gateway_enabled(self) -> bool:
        """What `discord-gateway` needs: the bot's token, and the application id naming its session."""
        return bool(self.discord_application_id and self.discord_bot_token)

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_public_key and self.discord_application_id and self.discord_bot_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret and self.slack_bot_token)


def load(env: dict | None = None) -> Config:
    """Build the Config from `env` (default: os.environ), validating what cannot be defaulted."""
    env = dict(os.environ if env is None else env)
    uri = env.get("MONGODB_URI", "").strip()
    data_dir = env.get("DATA_DIR", "var").strip() or "var"
    secret = env.get("VERIFY_TOKEN_SECRET", "").strip()
    if not secret:
        if uri:
            # Outside the embedded defaults a built-in or random secret would either be guessable
            # or break every link on each deploy; refuse to start instead.
            raise ConfigError("VERIFY_TOKEN_SECRET must be set when MONGODB_URI is set")
        secret = _local_secret(Path(data_dir))
    elif len(secret) < 16:
        raise ConfigError("VERIFY_TOKEN_SECRET must be at least 16 characters")
    zones = tuple(z.strip() for z in env.get("TEAM_TIMEZONES", "").split(",") if z.strip())
    _check_zones(zones)
    port = env.get("PORT", "8000").strip() or "8000"
    discord_key = env.get("DISCORD_PUBLIC_KEY", "").strip().lower()
    if discord_key and not re.fullmatch(r"[0-9a-f]{64}", discord_key):
        raise ConfigError("DISCORD_PUBLIC_KEY must be the application's public key: 64 hex characters")
    gateway_lease = _number(env, "DISCORD_GATEWAY_LEASE_SECONDS", 30.0, float)
    if gateway_lease < 1:
        raise ConfigError("DISCORD_GATEWAY_LEASE_SECONDS must be at least 1")
    rate_limit = _number(env, "PUBLIC_RATE_LIMIT", 300, int)
    hops = _number(env, "TRUSTED_PROXY_HOPS", 0, int)
    if rate_limit < 0 or hops < 0:
        raise ConfigError("PUBLIC_RATE_LIMIT and TRUSTED_PROXY_HOPS must be 0 or more")
    return Config(
        mongodb_uri=uri,
        mongodb_db=env.get("MONGODB_DB", "").strip() or "team_ops",
        data_dir=data_dir,
        public_base_url=(env.get("PUBLIC_BASE_URL", "").strip() or f"http://localhost:{port}").rstrip("/"),
        verify_token_secret=secret,
        telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
        telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
        telegram_bot_username=env.get("TELEGRAM_BOT_USERNAME", "").strip().lstrip("@"),
        telegram_api_base=(env.get("TELEGRAM_API_BASE", "").strip() or "https://api.telegram.org").rstrip("/"),
        discord_public_key=discord_key,
        discord_application_id=env.get("DISCORD_APPLICATION_ID", "").strip(),
        discord_bot_token=env.get("DISCORD_BOT_TOKEN", "").strip(),
        discord_api_base=(env.get("DISCORD_API_BASE", "").strip() or "https://discord.com/api/v10").rstrip("/"),
        discord_gateway_lease_seconds=gateway_lease,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
        slack_bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
        slack_api_base=(env.get("SLACK_API_BASE", "").strip() or "https://slack.com/api").rstrip("/"),
        slack_team_id=env.get("SLACK_TEAM_ID", "").strip(),
        slack_max_channel_members=_number(env, "SLACK_MAX_CHANNEL_MEMBERS", 500, int),
        whatsapp_app_secret=env.get("WHATSAPP_APP_SECRET", "").strip(),
        whatsapp_verify_token=env.get("WHATSAPP_VERIFY_TOKEN", "").strip(),
        whatsapp_access_token=env.get("WHATSAPP_ACCESS_TOKEN", "").strip(),
        whatsapp_phone_number_id=env.get("WHATSAPP_PHONE_NUMBER_ID", "").strip(),
        whatsapp_api_base=(env.get("WHATSAPP_API_BASE", "").strip() or "https://graph.facebook.com").rstrip("/"),
        whatsapp_api_version=_api_version(env.get("WHATSAPP_API_VERSION", "")),
        whatsapp_business_number=_digits(env, "WHATSAPP_BUSINESS_NUMBER"),
        team_timezones=zones,
        max_body_bytes=_number(env, "MAX_BODY_BYTES", 64 * 1024, int),
        public_rate_limit=rate_limit,
        trusted_proxy_hops=hops,
        inbox_lease_seconds=_number(env, "INBOX_LEASE_SECONDS", 60.0, float),
        inbox_max_attempts=_number(env, "INBOX_MAX_ATTEMPTS", 8, int),
        mongodb_write_timeout_seconds=_positive(env, "MONGODB_WRITE_TIMEOUT_SECONDS", 0.8),
        inbox_write_limit=max(1, _number(env, "INBOX_WRITE_LIMIT", 1000, int)),
        inbox_backlog_limit=max(1, _number(env, "INBOX_BACKLOG_LIMIT", 1000, int)),
        worker_concurrency=max(1, _number(env, "WORKER_CONCURRENCY", 16, int)),
        send_timeout_seconds=_number(env, "SEND_TIMEOUT_SECONDS", 10.0, float),
        together_api_key=env.get("TOGETHER_API_KEY", "").strip(),
        together_api_base=(env.get("TOGETHER_API_BASE", "").strip() or "https://api.together.xyz/v1").rstrip("/"),
        together_model=env.get("TOGETHER_MODEL", "").strip() or "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
        model_timeout_seconds=_positive(env, "MODEL_TIMEOUT_SECONDS", 4.0),
        model_budget_seconds=_positive(env, "MODEL_BUDGET_SECONDS", 6.0),
        model_daily_cap=_number(env, "MODEL_DAILY_CAP", 2000, int),
        model_chat_daily_cap=_number(env, "MODEL_CHAT_DAILY_CAP", 50, int),
        model_breaker_failures=max(1, _number(env, "MODEL_BREAKER_FAILURES", 5, int)),
        model_breaker_cooldown_seconds=_positive(env, "MODEL_BREAKER_COOLDOWN_SECONDS", 300.0),
        model_cache_days=_positive(env, "MODEL_CACHE_DAYS", 30.0),
        log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
        embedded=not uri,
    )


def _api_version(raw: str) -> str:
    version = raw.strip() or "v26.0"
    if not version.startswith("v"):
        version = "v" + version
    if not re.fullmatch(r"v\d{1,3}\.\d", version):
        raise ConfigError(f"WHATSAPP_API_VERSION must look like v26.0, got {raw.strip()!r}")
    return version


def _digits(env: dict, name: str) -> str:
    """A phone number as wa.me wants it: digits only, country code first (+, spaces, dashes dropped)."""
    raw = env.get(name, "").strip()
    digits = re.sub(r"[\s+()-]", "", raw)
    if raw and not (digits.isascii() and digits.isdigit() and 6 <= len(digits) <= 15):
        raise ConfigError(f"{name} must be a phone number with its country code, e.g. 15550783881")
    return digits


def _check_zones(zones: tuple[str, ...]) -> None:
    if not zones:
        return
    from zoneinfo import ZoneInfo

    for name in zones:
        try:
            ZoneInfo(name)
        except Exception:
            raise ConfigError(f"TEAM_TIMEZONES: unknown IANA zone {name!r}") from None


def _local_secret(data_dir: Path) -> str:
    """A random secret kept under the data dir, so local links survive restarts."""
    path = data_dir / "verify_token_secret"
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        secret = ""
    if len(secret) >= 16:
        return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
