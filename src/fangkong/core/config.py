"""Settings, read once from the environment (prefix ``FANGKONG_``) and from ``var/`` in development.

Nothing is built at import time: :func:`get_settings` reads and caches. In development and test the
secret and encryption keys are generated into ``var/keys.json`` on first use so that ``make run`` works
on a fresh machine; production refuses to start without explicit keys, because keys generated on one
host would silently make the data unreadable on the next.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fangkong.core import clock

Environment = Literal["development", "test", "production"]


class ConfigurationError(RuntimeError):
    """The settings cannot be used as given; the message says which variable to set."""


def _default_var_dir() -> Path:
    return Path(os.environ.get("FANGKONG_VAR_DIR", Path.cwd() / "var"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FANGKONG_", extra="ignore")

    env: Environment = "development"
    var_dir: Path = Field(default_factory=_default_var_dir)
    database_url: str = ""
    secret_key: str = ""
    # 32 bytes, urlsafe base64: AES-256-GCM for personal data at rest.
    encryption_key: str = ""
    # Separate key for the keyed hashes (keyed BLAKE2b) beside ID and phone numbers, so that a leaked
    # hash table cannot be matched without it and rotating one key does not force rotating the other.
    hash_key: str = ""
    # Login throttling (core/throttle.py). No account is ever locked: that would let anyone who knows a
    # username shut its owner out. Failures are remembered per client address and per account for
    # the window; past its allowance an address is refused (429, Retry-After) for a wait that doubles
    # with each further failure, up to the cap, and attempts on an account are held back a little
    # (doubling up to the account cap) before the password is checked, whoever makes them.
    login_window_minutes: int = Field(default=15, ge=1)
    login_address_failures: int = Field(default=10, ge=1)
    login_address_max_wait_seconds: int = Field(default=900, ge=1)
    login_account_failures: int = Field(default=5, ge=1)
    login_account_max_delay_seconds: float = Field(default=4.0, ge=0)
    # Concurrency (docs/operator.md, "Concurrency"): threads that run the code which blocks (database,
    # files, password hashing); requests that may work on the database at once, each with up to two
    # pooled connections (its own and the page frame's), the others waiting their turn without a
    # thread or a connection; how long a request may wait for its turn or a connection before it is
    # answered 503; and how long a transaction waits for a lock another holds (SQLite's one write
    # lock, a PostgreSQL row or table lock) before it is answered 503.
    worker_threads: int = Field(default=40, ge=2)
    db_requests: int = Field(default=10, ge=1)
    db_wait_seconds: float = Field(default=60.0, gt=0)
    db_lock_wait_seconds: float = Field(default=30.0, gt=0)
    session_hours: int = 12
    default_language: Literal["zh", "en"] = "zh"
    # Whether cookies carry the Secure flag; on by default in production (HTTPS behind a proxy).
    secure_cookies: bool = False
    # Seconds between two runs of the deadline sweeper inside each app process (task warnings,
    # escalations, the daily closure at the cut-off); 0 turns it off, for a deployment that runs
    # `fangkong response sweep` from cron instead. Runs never fire anything twice (see response.sweeper).
    sweep_seconds: int = Field(default=60, ge=0)
    # The daily closure's cut-off: a day is frozen this many hours after its local midnight (0: at
    # midnight; 8: the next morning at 08:00, for counties whose last reports come in overnight).
    closure_cutoff_hour: int = Field(default=0, ge=0, le=23)
    # The zone "today" is counted in: pages, exports, KPI windows, daily closure (IANA name).
    time_zone: str = clock.DEFAULT_TIME_ZONE

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        clock.parse_zone(value)
        return value

    @model_validator(mode="after")
    def _threads_for_the_database(self) -> Settings:
        # Each request working on the database holds at most one thread at a time; the threads left
        # over serve everything else (health checks, static files, form parsing), so none is starved.
        if self.db_requests > self.worker_threads // 2:
            raise ValueError(
                f"db_requests ({self.db_requests}) must be at most half of"
                f" worker_threads ({self.worker_threads})"
            )
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'fangkong.db'}"


def _load_or_create_dev_keys(var_dir: Path) -> dict[str, str]:
    path = var_dir / "keys.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    var_dir.mkdir(parents=True, exist_ok=True)
    keys = {
        "secret_key": secrets.token_urlsafe(48),
        "encryption_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "hash_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    # Written with owner-only permissions: these keys unlock every person's personal data.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh)
    return keys


def build_settings(**overrides: object) -> Settings:
    """Read the settings and fill in development keys; raise ConfigurationError in production."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError("; ".join(str(e["msg"]) for e in exc.errors())) from exc
    missing = [name for name in ("secret_key", "encryption_key", "hash_key") if not getattr(settings, name)]
    if missing:
        if settings.env == "production":
            names = ", ".join(f"FANGKONG_{m.upper()}" for m in missing)
            raise ConfigurationError(f"production mode needs explicit keys: set {names}")
        keys = _load_or_create_dev_keys(settings.var_dir)
        settings = settings.model_copy(update={m: keys[m] for m in missing})
    for name in ("encryption_key", "hash_key"):
        try:
            raw = base64.urlsafe_b64decode(getattr(settings, name))
        except ValueError as exc:
            raise ConfigurationError(f"FANGKONG_{name.upper()} is not urlsafe base64") from exc
        if len(raw) != 32:
            raise ConfigurationError(f"FANGKONG_{name.upper()} must decode to 32 bytes, got {len(raw)}")
    if settings.env == "production" and not settings.database_url:
        raise ConfigurationError("production mode needs FANGKONG_DATABASE_URL")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = build_settings()
    clock.set_time_zone(settings.time_zone)
    return settings
