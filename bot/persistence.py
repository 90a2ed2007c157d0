"""PTB persistence in the database (not a pickle file): conversation states and per-user drafts survive a restart.

Only user data and conversation states are kept; chat data, bot data and callback data are not used.
Each write is its own small transaction, run in a worker thread so the event loop is not blocked.
A row's updated_at is the time of its last write, so for a conversation it is the last activity: PTB
rewrites the state after every update the conversation handles, even when the state stays the same.
"""

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from models.base import utcnow
from models.bot import BotState
from models.db import unit_of_work

USER_SCOPE = "user"
CONVERSATION_SCOPE = "conversation:"


def _key_text(key: ConversationKey) -> str:
    return ",".join(str(part) for part in key)


def _key_tuple(text: str) -> ConversationKey:
    return tuple(int(part) if part.lstrip("-").isdigit() else part for part in text.split(",") if part != "")


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, sessions: sessionmaker[Session], update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.sessions = sessions

    # ---- database access (sync, called in a thread) -----------------------------------------

    def _load_scope(self, scope: str) -> dict[str, Any]:
        with self.sessions() as session:
            rows = session.execute(select(BotState.key, BotState.data).where(BotState.scope == scope))
            return {row.key: row.data for row in rows}

    def _load_written_at(self, scope: str) -> dict[str, datetime]:
        with self.sessions() as session:
            rows = session.execute(select(BotState.key, BotState.updated_at).where(BotState.scope == scope))
            return {row.key: row.updated_at for row in rows}

    def _save(self, scope: str, key: str, data: Any) -> None:
        with unit_of_work(self.sessions) as session:
            row = session.scalar(select(BotState).where(BotState.scope == scope, BotState.key == key))
            if data is None:
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(BotState(scope=scope, key=key, data=data))
            else:
                # Set explicitly: an unchanged state is no UPDATE for SQLAlchemy, but it is still activity.
                row.data, row.updated_at = data, utcnow()

    def _drop(self, scope: str, key: str) -> None:
        with unit_of_work(self.sessions) as session:
            session.execute(delete(BotState).where(BotState.scope == scope, BotState.key == key))

    # ---- user data (the report draft) -------------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        rows = await asyncio.to_thread(self._load_scope, USER_SCOPE)
        return defaultdict(dict, {int(k): dict(v) for k, v in rows.items()})

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await asyncio.to_thread(self._save, USER_SCOPE, str(user_id), data or None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        pass  # this process is the only writer of a user's draft

    async def drop_user_data(self, user_id: int) -> None:
        await asyncio.to_thread(self._drop, USER_SCOPE, str(user_id))

    # ---- conversations ----------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await asyncio.to_thread(self._load_scope, CONVERSATION_SCOPE + name)
        return {_key_tuple(k): v for k, v in rows.items()}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        await asyncio.to_thread(self._save, CONVERSATION_SCOPE + name, _key_text(key), new_state)

    async def get_conversation_activity(self, name: str) -> dict[ConversationKey, datetime]:
        """When each persisted conversation last handled an update (its state's last write)."""
        rows = await asyncio.to_thread(self._load_written_at, CONVERSATION_SCOPE + name)
        return {_key_tuple(k): v for k, v in rows.items()}

    # ---- what is not stored -----------------------------------------------------------------

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return defaultdict(dict)

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        pass

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        pass

    async def flush(self) -> None:
        pass  # every update is written as it happens
