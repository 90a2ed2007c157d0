"""Reporters' Telegram ids are no longer stored in clear: the user id becomes a keyed hash (to find a
reporter's own tips), the chat id is encrypted like the name and contact (to send replies and the 回访).

Existing rows are converted here, so the migration needs the keys; `hotline db upgrade` configures them
(HOTLINE_SECRET_KEY, HOTLINE_CONTACT_KEYS) before it migrates. Going down restores the chat id, and the
user id from it: a citizen talks to the bot in a private chat, whose id is the user's id.

Revision ID: 0011_reporter_telegram_hidden
Revises: 0010_tip_reopened_at
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models import crypto
from models.tips import telegram_user_key

revision: str = "0011_reporter_telegram_hidden"
down_revision: str | None = "0010_tip_reopened_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reporters") as batch_op:
        batch_op.add_column(sa.Column("telegram_user_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("telegram_chat", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_reporters_telegram_user_key"), ["telegram_user_key"], unique=False
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, telegram_user_id, telegram_chat_id FROM reporters"
            " WHERE telegram_user_id IS NOT NULL OR telegram_chat_id IS NOT NULL"
        )
    ).fetchall()
    for row in rows:
        conn.execute(
            sa.text("UPDATE reporters SET telegram_user_key = :key, telegram_chat = :chat WHERE id = :id"),
            {
                "id": row.id,
                "key": None if row.telegram_user_id is None else telegram_user_key(row.telegram_user_id),
                "chat": None
                if row.telegram_chat_id is None
                else crypto.keyring().encrypt(str(row.telegram_chat_id).encode()).decode(),
            },
        )
    with op.batch_alter_table("reporters") as batch_op:
        batch_op.drop_index(batch_op.f("ix_reporters_telegram_user_id"))
        batch_op.drop_column("telegram_user_id")
        batch_op.drop_column("telegram_chat_id")


def downgrade() -> None:
    with op.batch_alter_table("reporters") as batch_op:
        batch_op.add_column(sa.Column("telegram_user_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_reporters_telegram_user_id"), ["telegram_user_id"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, telegram_chat FROM reporters WHERE telegram_chat IS NOT NULL"))
    for row in rows.fetchall():
        chat = int(crypto.keyring().decrypt(str(row.telegram_chat).encode()).decode())
        conn.execute(
            sa.text("UPDATE reporters SET telegram_user_id = :user, telegram_chat_id = :chat WHERE id = :id"),
            {"id": row.id, "user": chat if chat > 0 else None, "chat": chat},
        )
    with op.batch_alter_table("reporters") as batch_op:
        batch_op.drop_index(batch_op.f("ix_reporters_telegram_user_key"))
        batch_op.drop_column("telegram_user_key")
        batch_op.drop_column("telegram_chat")
