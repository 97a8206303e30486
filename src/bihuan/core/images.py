"""Uploaded photos: what they really are, what they say about themselves, a clean copy.

Every photo that enters the system (hazard evidence, a party's signature) passes
:func:`validate_image`: the bytes are *decoded* (a name or a content type proves
nothing), only JPEG, PNG and WebP are accepted, the file and its pixel count are
capped (decompression bombs are refused before anything is decoded) and a
truncated or corrupt file is refused. Its EXIF (when it was taken, where) is
returned as evidence metadata; the stored original keeps it.

Anything shown to the public or to a responsible party is :func:`public_copy`:
re-encoded from the pixels alone, so no EXIF, GPS position or other metadata
leaves the system with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from bihuan.core.errors import ValidationFailed

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# 50 million pixels holds every phone camera's full resolution (8160 × 6144) and refuses
# bombs long before Pillow's own limit (Image.MAX_IMAGE_PIXELS, ~89 M, errors at twice that).
DEFAULT_MAX_PIXELS = 50_000_000

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

# Photos this process has already decoded whole, by SHA-256 of their bytes. One upload
# is checked twice on its way in (by the form, then by the service that stores it),
# and decoding a phone's 12 MP JPEG costs ~70 ms of CPU even at 1/8 scale, hashing
# it ~7 ms. A cryptographic digest: no other file can be made to pass as one of these.
_DECODED_LIMIT = 64
_decoded: OrderedDict[bytes, None] = OrderedDict()
_decoded_lock = threading.Lock()

# Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; a bomb is never a
# photo, so the warning is an error for the whole process (set once, at import).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


@dataclass(frozen=True)
class ImageInfo:
    """What a validated photo is, and what its EXIF says (``None`` when it says nothing)."""

    content_type: str
    format: str
    width: int
    height: int
    taken_at: dt.datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


def max_upload_bytes() -> int:
    return int(getattr(settings, "BIHUAN_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


def max_pixels() -> int:
    return int(getattr(settings, "BIHUAN_MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS))


def _not_a_photo() -> ValidationFailed:
    return ValidationFailed(_("Only photos (JPEG, PNG or WebP) can be attached."),
                            field="evidence")


def _too_many_pixels() -> ValidationFailed:
    return ValidationFailed(
        _("This image has too many pixels to be a photo (at most %(mp)d megapixels).")
        % {"mp": max_pixels() // 1_000_000},
        field="evidence",
    )


def _too_big(limit: int) -> ValidationFailed:
    return ValidationFailed(
        _("A photo may be at most %(mb)d MB.") % {"mb": max(1, limit // 2**20)},
        field="evidence",
    )


def _open(content: bytes) -> Image.Image:
    """Open (header only) as one of the accepted formats, refusing bombs by their size."""
    try:
        image = Image.open(io.BytesIO(content), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _not_a_photo() from None
    width, height = image.size
    if width < 1 or height < 1:
        raise _not_a_photo()
    if width * height > max_pixels():
        raise _too_many_pixels()
    if getattr(image, "is_animated", False) or getattr(image, "n_frames", 1) > 1:
        # Animations are not photos, and each frame would multiply the pixels.
        raise _not_a_photo()
    return image


def _decode(image: Image.Image) -> None:
    """Decode every byte: a truncated or corrupt file fails here."""
    # WeasyPrint switches Pillow's process-wide LOAD_TRUNCATED_IMAGES on when it is
    # imported (the first PDF a worker renders); with it on, a truncated photo would
    # load without error. Evidence must be whole, so it is switched off again here.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        if image.format == "JPEG":
            # DCT scaling decodes all of the data at 1/8 size: the whole file is checked
            # for a fraction of the memory a full decode of a 50 MP photo would take.
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError):
        raise ValidationFailed(
            _("The photo is damaged or incomplete. Take or choose it again."),
            field="evidence",
        ) from None


def _decoded_before(digest: bytes) -> bool:
    with _decoded_lock:
        if digest in _decoded:
            _decoded.move_to_end(digest)
            return True
    return False


def _remember_decoded(digest: bytes) -> None:
    with _decoded_lock:
        _decoded[digest] = None
        _decoded.move_to_end(digest)
        while len(_decoded) > _DECODED_LIMIT:
            _decoded.popitem(last=False)


def forget_decoded() -> None:
    """Forget which photos were decoded (tests)."""
    with _decoded_lock:
        _decoded.clear()


def validate_image(content: bytes, *, max_bytes: int | None = None) -> ImageInfo:
    """Check that ``content`` is a whole JPEG, PNG or WebP photo within the limits.

    Raises :class:`~bihuan.core.errors.ValidationFailed` with a translated message
    otherwise. Returns the format and the EXIF metadata worth keeping as evidence.

    The size, format and pixel limits and the EXIF are checked on every call; the
    full decode only once per distinct file (see ``_decoded``).
    """
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if len(content) > limit:
        raise _too_big(limit)
    if not content:
        raise _not_a_photo()
    image = _open(content)
    with image:
        fmt = str(image.format)
        width, height = image.size
        taken_at, latitude, longitude = _exif_metadata(image)
        digest = hashlib.sha256(content).digest()
        if not _decoded_before(digest):
            _decode(image)
            _remember_decoded(digest)
    return ImageInfo(content_type=FORMATS[fmt], format=fmt, width=width, height=height,
                     taken_at=taken_at, latitude=latitude, longitude=longitude)


def public_copy(content: bytes, *, max_bytes: int | None = None) -> bytes:
    """The photo re-encoded from its pixels alone: no EXIF, GPS, XMP or text chunks.

    The orientation the EXIF asked for is applied first, so the copy looks the same.
    """
    validate_image(content, max_bytes=max_bytes)
    with Image.open(io.BytesIO(content), formats=list(FORMATS)) as source:
        fmt = str(source.format)
        source.load()
        upright = ImageOps.exif_transpose(source)
        mode = upright.mode
        if fmt == "JPEG":
            mode = mode if mode in ("L", "RGB", "CMYK") else "RGB"
        elif mode not in ("L", "RGB", "RGBA"):
            mode = "RGBA" if ("A" in mode or "transparency" in upright.info) else "RGB"
        # A new image from the pixels: nothing of the source's ``info`` travels with it.
        clean = Image.new(mode, upright.size)
        clean.paste(upright.convert(mode))
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if fmt == "JPEG":
        options = {"quality": 90, "optimize": True}
    elif fmt == "WEBP":
        options = {"quality": 90}
    clean.save(out, fmt, **options)
    return out.getvalue()


# ---------------------------------------------------------------- EXIF


def _exif_metadata(image: Image.Image) -> tuple[dt.datetime | None, float | None, float | None]:
    try:
        exif = image.getexif()
    except Exception:  # broken EXIF is no evidence, not a broken photo
        return None, None, None
    if not exif:
        return None, None, None
    taken_at = _taken_at(exif)
    latitude, longitude = _gps(exif)
    return taken_at, latitude, longitude


def _taken_at(exif: Image.Exif) -> dt.datetime | None:
    try:
        details = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        details = {}
    raw = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    offset = details.get(ExifTags.Base.OffsetTimeOriginal) or details.get(
        ExifTags.Base.OffsetTime
    )
    if not isinstance(raw, str):
        return None
    try:
        naive = dt.datetime.strptime(raw.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other placeholders
    if isinstance(offset, str):
        try:
            return dt.datetime.fromisoformat(naive.isoformat() + offset.strip().rstrip("\x00"))
        except ValueError:
            pass
    # No offset recorded: the camera's clock is local time where the system runs.
    return timezone.make_aware(naive, timezone.get_default_timezone())


def _rational(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:  # (numerator, denominator)
        return float(value[0]) / float(value[1])
    return float(value)


def _dms(value: Any, ref: Any, negative: str) -> float | None:
    try:
        parts = [_rational(v) for v in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3:
        return None
    parts += [0.0] * (3 - len(parts))
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if isinstance(ref, str) and ref.strip().upper().startswith(negative):
        degrees = -degrees
    return round(degrees, 6)


def _gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    """GPS position in decimal degrees. Phones record WGS-84, as the system stores it."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:
        return None, None
    if not gps:
        return None, None
    lat = _dms(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    lon = _dms(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if lat is None or lon is None:
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None  # out of range, or the "no fix" placeholder some phones write
    return lat, lon
