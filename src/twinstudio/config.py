"""Settings, read once from the environment (``TWINSTUDIO_*``) with embedded defaults.

Everything the server keeps lives under ``data_dir``: the SQLite database, stored files and the
signing secret. Defaults make ``twinstudio serve`` work on a fresh machine with no configuration;
``validate()`` refuses combinations that would be unsafe.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Server settings. Build with :func:`get_settings` (cached) or ``Settings.from_env()``."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    database_url: str = ""
    workers: int = 1
    lease_seconds: int = 60
    url_ttl_seconds: int = 7 * 24 * 3600
    max_asset_bytes: int = 32 * 1024 * 1024
    max_footage_bytes: int = 500 * 1024 * 1024
    max_concurrent_videos: int = 10
    require_consent: bool = True
    demo: bool = True
    webhook_threads: int = 2
    secret_key: str = field(default="", repr=False)

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("TWINSTUDIO_DATA_DIR", "./data")).resolve()
        port = _env_int("TWINSTUDIO_PORT", 8000)
        host = os.environ.get("TWINSTUDIO_HOST", "127.0.0.1")
        public_url = os.environ.get("TWINSTUDIO_PUBLIC_URL", "").rstrip("/")
        return cls(
            data_dir=data_dir,
            host=host,
            port=port,
            public_url=public_url,
            database_url=os.environ.get("TWINSTUDIO_DATABASE_URL", ""),
            workers=_env_int("TWINSTUDIO_WORKERS", 1),
            lease_seconds=_env_int("TWINSTUDIO_LEASE_SECONDS", 60),
            url_ttl_seconds=_env_int("TWINSTUDIO_URL_TTL_SECONDS", 7 * 24 * 3600),
            max_asset_bytes=_env_int("TWINSTUDIO_MAX_ASSET_MB", 32) * 1024 * 1024,
            max_footage_bytes=_env_int("TWINSTUDIO_MAX_FOOTAGE_MB", 500) * 1024 * 1024,
            max_concurrent_videos=_env_int("TWINSTUDIO_MAX_CONCURRENT_VIDEOS", 10),
            require_consent=_env_bool("TWINSTUDIO_REQUIRE_CONSENT", True),
            demo=_env_bool("TWINSTUDIO_DEMO", True),
            webhook_threads=_env_int("TWINSTUDIO_WEBHOOK_THREADS", 2),
            secret_key=os.environ.get("TWINSTUDIO_SECRET_KEY", ""),
        )

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'twinstudio.db'}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    def base_url(self) -> str:
        """The URL clients reach this server on (for signed file links)."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::"} else self.host
        return f"http://{host}:{self.port}"

    def signing_key(self) -> bytes:
        """The HMAC key for signed URLs: from the environment, else made once and kept on disk."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            os.replace(tmp, path)
        return path.read_text().strip().encode()

    def validate(self) -> None:
        """Refuse settings that cannot work, with a message that says what to change."""
        if not 1 <= self.port <= 65535:
            raise SystemExit(f"TWINSTUDIO_PORT must be 1-65535, got {self.port}")
        if self.workers < 0:
            raise SystemExit("TWINSTUDIO_WORKERS must be 0 or more")
        if self.lease_seconds < 5:
            raise SystemExit("TWINSTUDIO_LEASE_SECONDS must be at least 5")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    settings = Settings.from_env()
    settings.validate()
    return settings
