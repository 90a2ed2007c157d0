"""Photo checks: real type by content (JPEG/PNG/WebP), size, decompression bombs; EXIF removed."""

import errno
import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from triage.errors import PayloadTooLarge, StorageFull, ValidationFailed

ALLOWED = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 40_000_000  # a 10 MB file that decodes to more than this is a decompression bomb


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str


def clean_photo(raw: bytes, max_bytes: int) -> CleanPhoto:
    """Re-encode the pixels only, which drops EXIF (GPS position, phone model) and anything appended."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"每张照片不能超过{max_bytes // (1024 * 1024)}MB", "photo_too_large")
    if not raw:
        raise ValidationFailed("照片文件为空", "photo_empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                fmt = probe.format or ""
                if fmt not in ALLOWED:
                    raise ValidationFailed("照片只支持JPEG、PNG或WebP格式", "photo_type")
                if probe.width * probe.height > MAX_PIXELS:
                    raise ValidationFailed("照片像素过大，请压缩后再上传", "photo_too_many_pixels")
                probe.load()
                image = probe.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed("照片像素过大，请压缩后再上传", "photo_too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed("无法识别的图片文件，照片只支持JPEG、PNG或WebP格式", "photo_type") from None
    content_type, extension = ALLOWED[fmt]
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    save_args: dict[str, object] = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    image.save(out, format=fmt, **save_args)
    data = out.getvalue()
    return CleanPhoto(
        data=data,
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store_photo(photo: CleanPhoto, directory: Path) -> str:
    """Write the file under a random name (never the uploader's) and return that name.

    A full disk is a clear 507 for the citizen, and never leaves half a photo behind.
    """
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{photo.extension}"
    tmp = directory / f".{name}.part"
    try:
        tmp.write_bytes(photo.data)
        tmp.replace(directory / name)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(
                "照片存储空间已满，暂时无法接收照片。请稍后重试，或先不带照片提交", "storage_full"
            ) from exc
        raise
    return name
