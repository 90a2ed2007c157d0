"""The staff Telegram chats (the bureau's and the dispatchers'), read from HOTLINE_* variables with defaults."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class StaffChats(BaseSettings):
    """Where the sender delivers bureau and dispatcher notices; None = not configured.

    An unconfigured chat is not an error: its rows are marked `skipped` (the digest is archived and
    e-mailed, and dispatchers see every notice on their pages), so they never pile up as pending.
    Group ids are negative (-100…); get one by adding the bot to the group and reading an update.
    """

    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    telegram_bureau_chat_id: int | None = None
    telegram_dispatchers_chat_id: int | None = None

    def chat_for(self, recipient_kind: str) -> int | None:
        if recipient_kind == "bureau":
            return self.telegram_bureau_chat_id
        if recipient_kind == "dispatchers":
            return self.telegram_dispatchers_chat_id
        return None
