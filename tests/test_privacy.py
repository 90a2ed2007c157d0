"""Reporter privacy: identity encrypted at rest, key rotation, the retention purge, backups."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from hotline import backup
from models import crypto
from models.audit import AuditEvent
from models.base import utcnow
from models.tips import Reporter, Tip
from tests.conftest import TEST_KEYS
from tests.factories import TZ, actor, make_tip, make_user, tech_order
from triage import workorders as wo
from triage.retention import purge_reporter_identities, reencrypt_reporter_identities

PHONE = "13800138000"
TELEGRAM_ID = 5_123_456_789  # Telegram ids exceed 32 bits


def test_contact_is_encrypted_at_rest(sessions, settings, db):  # type: ignore[no-untyped-def]
    make_tip(sessions, settings, anonymous=False, name="赵六", contact=PHONE)
    raw = db.execute(text("SELECT name, contact FROM reporters")).one()
    assert PHONE not in raw.contact and "赵六" not in raw.name
    assert db.scalar(select(Reporter)).contact == PHONE


def test_keys_rotate_without_losing_identities(sessions, settings, db):  # type: ignore[no-untyped-def]
    make_tip(sessions, settings, anonymous=False, contact=PHONE)
    make_tip(
        sessions, settings, channel="telegram", telegram_user_id=TELEGRAM_ID, telegram_chat_id=TELEGRAM_ID
    )
    newest = crypto.new_key()
    try:
        crypto.configure([newest, *TEST_KEYS])
        assert reencrypt_reporter_identities(db) == 2
        db.commit()
        crypto.configure([newest])  # the old keys are gone
        db.expire_all()
        assert [(r.contact, r.telegram_chat) for r in db.scalars(select(Reporter).order_by(Reporter.id))] == [
            (PHONE, None),
            (None, str(TELEGRAM_ID)),
        ]
    finally:
        crypto.configure(TEST_KEYS)


def _close(db, sessions, settings, **tip):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings, **tip)
    dispatcher = actor(make_user(db, f"d{receipt.tip_id}", "dispatcher"))
    dept = actor(make_user(db, f"m{receipt.tip_id}", "department", "miit"))
    (a,) = wo.dispatch(db, dispatcher, receipt.tip_id, tech_order(co_handlers=()), TZ)
    wo.sign(db, dept, a.id)
    wo.reply(db, dept, a.id, "已处理")
    wo.approve(db, dispatcher, a.id)
    db.commit()
    return receipt


def test_retention_purges_identity_only_after_every_tip_ended_long_ago(sessions, settings, db):  # type: ignore[no-untyped-def]
    old = _close(db, sessions, settings, anonymous=False, contact=PHONE)
    by_telegram = _close(
        db, sessions, settings, channel="telegram", telegram_user_id=TELEGRAM_ID, telegram_chat_id=TELEGRAM_ID
    )
    still_open = make_tip(sessions, settings, anonymous=False, contact="13900000000")
    later = utcnow() + timedelta(days=400)
    assert purge_reporter_identities(db, 365, now=utcnow()) == 0  # closed just now: kept
    assert purge_reporter_identities(db, 365, now=later) == 2
    db.commit()
    purged = db.get(Reporter, db.get(Tip, old.tip_id).reporter_id)
    assert purged.contact is None and purged.purged_at is not None
    gone = db.get(Reporter, db.get(Tip, by_telegram.tip_id).reporter_id)
    assert (gone.telegram_user_key, gone.telegram_chat) == (None, None)
    assert db.get(Reporter, db.get(Tip, still_open.tip_id).reporter_id).contact == "13900000000"
    assert db.get(Tip, old.tip_id).text  # the record itself stays
    assert db.scalar(select(func.count()).where(AuditEvent.action == "reporter_purged")) == 2
    with pytest.raises(ValueError):
        purge_reporter_identities(db, 0)


def test_a_sqlite_backup_restores_tips_and_photos(sessions, settings, tmp_path, db_url):  # type: ignore[no-untyped-def]
    if not db_url.startswith("sqlite"):
        with pytest.raises(backup.BackupError, match="pg_dump"):
            backup.backup(db_url, settings.attachments_dir, tmp_path / "b.tar.gz")
        return
    from tests.test_intake import png

    receipt = make_tip(sessions, settings, photos=[png()])
    archive = backup.backup(db_url, settings.attachments_dir, tmp_path / "b.tar.gz")
    restored_db = tmp_path / "restored" / "hotline.db"
    restored_files = tmp_path / "restored" / "attachments"
    backup.restore(archive, f"sqlite:///{restored_db}", restored_files)
    from models.db import make_engine, make_sessionmaker

    engine = make_engine(f"sqlite:///{restored_db}")
    with make_sessionmaker(engine)() as copy:
        tip = copy.scalar(select(Tip).where(Tip.ticket == receipt.ticket))
        assert tip is not None and len(tip.attachments) == 1
        assert (restored_files / tip.attachments[0].stored_name).exists()
    engine.dispose()
    with pytest.raises(backup.BackupError, match="--force"):
        backup.restore(archive, f"sqlite:///{restored_db}", restored_files)


def test_query_codes_use_every_symbol_in_every_place_and_do_not_repeat():  # type: ignore[no-untyped-def]
    from intake.tickets import CODE_ALPHABET, CODE_LENGTH, new_query_code

    codes = [new_query_code() for _ in range(5000)]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET) for code in codes)
    # A biased generator (a subset of symbols, a fixed place) would leave some symbol out of some place;
    # for a uniform one the chance of that in 5,000 codes is below 1e-60.
    for place in range(CODE_LENGTH):
        assert {code[place] for code in codes} == set(CODE_ALPHABET)
