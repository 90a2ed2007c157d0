"""Settings, read once from the environment (HOTLINE_*) and an optional .env file."""

import base64
import hashlib
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from intake.service import IntakeConfig

DEMO_SECRET = "demo-secret-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""  # default: SQLite under data_dir
    # Connections each process keeps open to PostgreSQL (a request holds one, the triage thread one), so
    # 4 workers x 10 stay well under max_connections (100).
    db_pool_size: int = 10
    # Demo mode allows a built-in secret key and loads demo accounts; production must set its own key.
    demo: bool = True
    secret_key: str = ""
    time_zone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    cookie_secure: bool = False
    # Per-IP limits on submissions and status queries (intake/ratelimit.py); off only for load tests.
    rate_limits: bool = True
    # A tip still waiting for triage after this many seconds was left by a stopped process: any worker
    # analyses it (intake/auto_triage.py).
    triage_orphan_seconds: float = 120.0
    max_photos: int = 5
    max_photo_bytes: int = 10 * 1024 * 1024
    max_text_chars: int = 5000
    # Routing and deadline rules (TOML); default: the copy shipped in triage/rules/.
    routing_file: Path | None = None
    telegram_token: str = ""
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    # Fernet keys for reporter identity at rest, comma-separated, newest first (see README: key rotation).
    contact_keys: str = ""

    @field_validator("data_dir", mode="before")
    @classmethod
    def _not_blank(cls, value: object) -> object:
        """A set but empty HOTLINE_DATA_DIR would silently mean the current directory (a stray hotline.db
        in whatever directory a command ran in): refuse it."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("HOTLINE_DATA_DIR 已设置但为空：请删除该变量（默认 var/）或填写一个目录")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'hotline.db').as_posix()}"
        if not self.secret_key:
            if not self.demo:
                raise ValueError("非演示模式（HOTLINE_DEMO=false）必须设置 HOTLINE_SECRET_KEY")
            self.secret_key = DEMO_SECRET
        return self

    def reporter_keys(self) -> list[str]:
        """The keys for reporter identity; demo mode derives one from the secret key."""
        keys = [k.strip() for k in self.contact_keys.split(",") if k.strip()]
        if keys:
            return keys
        if not self.demo:
            raise ValueError("非演示模式必须设置 HOTLINE_CONTACT_KEYS（可用 `hotline keys new` 生成）")
        digest = hashlib.sha256(f"reporter-identity:{self.secret_key}".encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode()]

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    def intake_config(self) -> IntakeConfig:
        """What `intake.submit()` needs of these settings, for every channel."""
        return IntakeConfig(
            secret_key=self.secret_key,
            tz=self.tz,
            attachments_dir=self.attachments_dir,
            max_text_chars=self.max_text_chars,
            max_photos=self.max_photos,
            max_photo_bytes=self.max_photo_bytes,
        )
