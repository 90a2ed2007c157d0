"""The public form and photo handling: real type by content, EXIF removed, bad uploads refused, nothing half-stored."""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from intake.auto_triage import inline_triage
from intake.photos import clean_photo
from intake.service import TipSubmission, submit
from models.tips import Attachment, Reporter, Tip
from tests.factories import intake_config
from triage.errors import PayloadTooLarge, ValidationFailed

TEXT = "东源县仙塘镇水泥厂半夜冒黑烟，粉尘很大"


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (23.0, 44.0, 0.0)}  # GPSInfo: latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


def test_exif_is_removed_from_photos():  # type: ignore[no-untyped-def]
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the fixture really carries a GPS position
    clean = clean_photo(raw, 10 * 1024 * 1024)
    assert clean.content_type == "image/jpeg" and (clean.width, clean.height) == (64, 48)
    assert not Image.open(io.BytesIO(clean.data)).getexif()
    assert b"PhoneMaker" not in clean.data


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b"GIF89a" + b"\x00" * 100, ValidationFailed, "photo_type"),
        (b"%PDF-1.4 not an image", ValidationFailed, "photo_type"),
        (b"<script>alert(1)</script>", ValidationFailed, "photo_type"),
        (b"", ValidationFailed, "photo_empty"),
        (b"\xff\xd8" + b"\x00" * (11 * 1024 * 1024), PayloadTooLarge, "photo_too_large"),
    ],
    ids=["gif", "pdf-renamed", "html", "empty", "over-10mb"],
)
def test_bad_uploads_are_refused(data, error, code):  # type: ignore[no-untyped-def]
    with pytest.raises(error) as caught:
        clean_photo(data, 10 * 1024 * 1024)
    assert caught.value.code == code


def test_a_decompression_bomb_is_refused():  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")  # tiny file, 400 megapixels
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(ValidationFailed) as caught:
        clean_photo(out.getvalue(), 10 * 1024 * 1024)
    assert caught.value.code == "photo_too_many_pixels"


def test_a_failed_submission_stores_neither_tip_nor_photos(sessions, settings, db):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        submit(
            sessions,
            TipSubmission(text=TEXT, channel="web", photos=[png(), b"junk"]),
            intake_config(settings),
        )
    assert db.scalar(select(func.count()).select_from(Tip)) == 0
    assert not settings.attachments_dir.exists() or not any(settings.attachments_dir.iterdir())


def test_the_database_failing_mid_submit_leaves_no_orphan_photos(sessions, settings, db, monkeypatch):  # type: ignore[no-untyped-def]
    import intake.service as service

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "store_submission", broken)
    with pytest.raises(RuntimeError):
        submit(sessions, TipSubmission(text=TEXT, channel="web", photos=[png()]), intake_config(settings))
    assert db.scalar(select(func.count()).select_from(Tip)) == 0
    assert not any(settings.attachments_dir.iterdir())


def test_a_submission_whose_last_row_fails_leaves_no_reporter_no_tip_and_no_photo(
    sessions, settings, db, monkeypatch
):  # type: ignore[no-untyped-def]
    """The database refuses the `received` event (written last): the ticket, reporter, tip and photos
    written before it in the same statement (PostgreSQL) or transaction (SQLite) are gone too."""
    import intake.service as service

    real = service.audit.event_row
    monkeypatch.setattr(service.audit, "event_row", lambda *a, **k: {**real(*a, **k), "action": None})
    with pytest.raises(IntegrityError):
        submit(sessions, TipSubmission(text=TEXT, channel="web", contact="13800000000", anonymous=False,
                                       photos=[png()]), intake_config(settings))  # fmt: skip
    monkeypatch.undo()
    assert db.scalar(select(func.count()).select_from(Tip)) == 0
    assert db.scalar(select(func.count()).select_from(Reporter)) == 0
    assert db.scalar(select(func.count()).select_from(Attachment)) == 0
    assert not any(settings.attachments_dir.iterdir())
    receipt = submit(sessions, TipSubmission(text=TEXT, channel="web"), intake_config(settings))
    db.rollback()
    assert db.scalar(select(Tip.ticket)) == receipt.ticket  # the connection went back to the pool usable


def test_a_citizen_uses_the_web_form_with_photos(server, db, settings):  # type: ignore[no-untyped-def]
    with server.client() as client:
        form = client.get("/")
        assert form.status_code == 200 and "举报落后产能问题" in form.text
        response = client.post(
            "/tips",
            data={"text": TEXT, "place": "东源县仙塘镇", "anonymous": "1"},
            files=[
                ("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg")),
                ("photos", ("b.png", png(), "image/png")),
            ],
        )
        assert response.status_code == 201
        ticket_match = re.search(r'id="ticket">([^<]+)<', response.text)
        code_match = re.search(r'id="query-code">([^<]+)<', response.text)
        assert ticket_match and code_match, response.text
        ticket, code = ticket_match.group(1), code_match.group(1)
        status = client.get("/status", params={"ticket": ticket, "code": code})
    assert status.status_code == 200 and "已受理" in status.text
    tip = db.scalar(select(Tip))
    photos = list(db.scalars(select(Attachment).where(Attachment.tip_id == tip.id)))
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png"]
    stored = (settings.attachments_dir / photos[0].stored_name).read_bytes()
    assert b"PhoneMaker" not in stored
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", photos[0].stored_name)  # a random name, never the uploader's


def test_the_form_keeps_what_was_typed_when_it_refuses(server):  # type: ignore[no-untyped-def]
    with server.client() as client:
        response = client.post(
            "/tips",
            data={"text": TEXT, "place": "仙塘镇", "anonymous": "1"},
            files=[("photos", ("fake.jpg", b"not an image at all", "image/jpeg"))],
        )
    assert response.status_code == 422
    assert "照片只支持JPEG、PNG或WebP格式" in response.text or "无法识别的图片文件" in response.text
    assert TEXT in response.text and "仙塘镇" in response.text


def test_text_is_escaped_on_the_status_page(server):  # type: ignore[no-untyped-def]
    with server.client() as client:
        receipt = client.post(
            "/api/v1/tips", json={"text": "<script>alert('x')</script> 龙川县黑烟", "channel": "web"}
        ).json()
        page = client.get("/status", params={"ticket": receipt["ticket"], "code": "WRONGCODE1"})
    assert page.status_code == 404 and "未找到该工单" in page.text


class _UrgentAnalysis:
    def to_dict(self) -> dict[str, object]:
        return {"category": "safety", "subtype": "hazard", "urgent": True, "county_code": "441602"}


def test_a_tip_is_due_from_receipt_and_an_urgent_suggestion_shortens_it(sessions, settings, db):  # type: ignore[no-untyped-def]
    plain = submit(sessions, TipSubmission(text=TEXT, channel="web"), intake_config(settings))
    urgent = submit(
        sessions,
        TipSubmission(text="源城区埔前镇铸造厂铁水爆炸，有人受伤", channel="web"),
        intake_config(settings),
        triage=inline_triage(sessions, lambda text, hints: _UrgentAnalysis(), intake_config(settings).tz),
    )
    plain_tip, urgent_tip = db.get(Tip, plain.tip_id), db.get(Tip, urgent.tip_id)
    assert (plain_tip.due_at - plain_tip.received_at).days >= 14  # 15 working days
    assert (urgent_tip.due_at - urgent_tip.received_at).total_seconds() == 24 * 3600
    assert urgent_tip.triage_state == "done" and urgent_tip.category == "safety"


def test_a_crashing_analyser_leaves_the_tip_for_manual_triage(sessions, settings, db):  # type: ignore[no-untyped-def]
    def broken(text, hints):  # type: ignore[no-untyped-def]
        raise RuntimeError("model file corrupt")

    config = intake_config(settings)
    receipt = submit(
        sessions,
        TipSubmission(text=TEXT, channel="web"),
        config,
        triage=inline_triage(sessions, broken, config.tz),
    )
    tip = db.get(Tip, receipt.tip_id)
    assert tip.status == "received" and tip.triage_state == "failed"
