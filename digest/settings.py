"""Settings of scheduled work and delivery, read from HOTLINE_* variables (and .env), each with a default."""

from typing import Literal
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict


class DigestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_file=".env", extra="ignore")

    # When the weekly digest is produced: Monday 09:00 Asia/Shanghai unless configured otherwise.
    digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_hour: int = 9
    digest_minute: int = 0
    schedule_time_zone: str = "Asia/Shanghai"
    # The overdue scan (督办) runs every hour at this minute.
    overdue_scan_minute: int = 5
    # Departments are reminded this many hours before an assignment's sign-off deadline.
    sign_reminder_hours: float = 2.0
    sign_reminder_every_minutes: int = 15
    # Whether the digest also goes to the bureau's Telegram chat (through the outbox).
    digest_telegram: bool = True
    # E-mail (SMTP). No host or no recipients: the digest is not e-mailed.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout_seconds: float = 30.0
    digest_email_from: str = "hotline@localhost"
    digest_email_to: str = ""  # comma-separated addresses
    email_max_attempts: int = 8

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.schedule_time_zone)

    @property
    def email_recipients(self) -> list[str]:
        return [a.strip() for a in self.digest_email_to.split(",") if a.strip()]

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.email_recipients)
