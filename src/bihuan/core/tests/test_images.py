"""Photos are checked by decoding them; bombs, fakes and broken files are refused."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import translation
from PIL import ExifTags, Image

from bihuan.core import images
from bihuan.core.errors import ValidationFailed
from bihuan.core.images import public_copy, validate_image


@pytest.fixture(autouse=True)
def _nothing_decoded_yet():
    images.forget_decoded()
    yield
    images.forget_decoded()


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    return _encode(Image.new("RGB", size, (180, 40, 30)), fmt)


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Bihuan test phone"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:09:14 09:30:15"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (28.0, 54.0, 36.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 2.0, 24.0)
    return exif


def _refusal(content: bytes, **kwargs: object) -> str:
    with translation.override("en"), pytest.raises(ValidationFailed) as caught:
        validate_image(content, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == "evidence"
    return str(caught.value.message)


@pytest.mark.parametrize(("fmt", "content_type"),
                         [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_a_photo_passes(fmt, content_type):
    info = validate_image(_photo(fmt))
    assert info.content_type == content_type
    assert (info.width, info.height) == (64, 48)
    assert info.taken_at is None and info.latitude is None and info.longitude is None


def test_a_text_file_named_jpg_is_refused():
    assert "Only photos" in _refusal(b"GPS: 28.9, 120.0; this is a text file, photo.jpg\n" * 20)


def test_a_gif_is_refused_although_pillow_can_read_it():
    assert "Only photos" in _refusal(_photo("GIF"))


def test_a_file_that_only_starts_like_a_jpeg_is_refused():
    assert "Only photos" in _refusal(b"\xff\xd8\xff\xe0" + b"\x00" * 200)


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    bomb = _encode(Image.new("1", (30000, 30000)), "PNG")
    assert len(bomb) < 200_000  # tiny on disk, 900 million pixels once decoded
    assert "too many pixels" in _refusal(bomb)


def test_an_image_over_the_pixel_cap_is_refused(settings):
    settings.BIHUAN_MAX_IMAGE_PIXELS = 1000
    assert "too many pixels" in _refusal(_photo("PNG", (50, 50)))


def test_an_oversized_file_is_refused(settings):
    content = _photo()
    assert "at most 10 MB" in _refusal(content + b"\x00" * (10 * 2**20))
    settings.BIHUAN_MAX_UPLOAD_BYTES = 2**20
    assert "at most 1 MB" in _refusal(content + b"\x00" * 2**20)
    settings.BIHUAN_MAX_UPLOAD_BYTES = len(content) - 1
    assert "at most" in _refusal(content)
    assert validate_image(content, max_bytes=len(content)).format == "JPEG"


def test_a_truncated_photo_is_refused():
    noisy = Image.effect_noise((400, 300), 60).convert("RGB")
    for fmt in ("JPEG", "PNG"):
        content = _encode(noisy, fmt)
        message = _refusal(content[: len(content) * 2 // 3])
        assert "damaged or incomplete" in message or "Only photos" in message, fmt


def test_a_truncated_photo_is_refused_after_a_pdf_library_loosened_pillow():
    import weasyprint  # noqa: F401 (its import sets LOAD_TRUNCATED_IMAGES process-wide)
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as WeasyPrint leaves it, whatever the order
    try:
        content = _encode(Image.effect_noise((400, 300), 60).convert("RGB"), "JPEG")
        message = _refusal(content[: len(content) * 2 // 3])
        assert "damaged or incomplete" in message or "Only photos" in message
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_an_animation_is_not_a_photo():
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 255, 0))]
    content = _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    assert "Only photos" in _refusal(content)


def test_the_exif_position_and_time_are_kept_as_evidence():
    content = _encode(Image.new("RGB", (64, 48), (1, 2, 3)), "JPEG", exif=_gps_exif())
    info = validate_image(content)
    assert info.latitude == pytest.approx(28.91)
    assert info.longitude == pytest.approx(120.04)
    # No offset in the EXIF: the camera's clock is local (Beijing) time.
    assert info.taken_at == dt.datetime(2026, 9, 14, 1, 30, 15, tzinfo=dt.UTC)


def test_southern_and_western_positions_are_negative():
    exif = _gps_exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    info = validate_image(_encode(Image.new("RGB", (8, 8)), "JPEG", exif=exif))
    assert (info.latitude, info.longitude) == (pytest.approx(-28.91), pytest.approx(-120.04))


def test_the_public_copy_carries_no_exif_and_no_position():
    content = _encode(Image.new("RGB", (64, 48), (1, 2, 3)), "JPEG", exif=_gps_exif())
    assert b"Bihuan test phone" in content
    copy = public_copy(content)
    assert b"Bihuan test phone" not in copy and b"Exif" not in copy
    with Image.open(io.BytesIO(copy)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert image.size == (64, 48)
    info = validate_image(copy)
    assert info.latitude is None and info.taken_at is None


def test_the_public_copy_is_upright():
    exif = _gps_exif()
    exif[ExifTags.Base.Orientation] = 6  # the phone was held sideways
    content = _encode(Image.new("RGB", (64, 48)), "JPEG", exif=exif)
    with Image.open(io.BytesIO(public_copy(content))) as image:
        assert image.size == (48, 64)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_the_public_copy_keeps_the_format_and_drops_the_metadata(fmt):
    content = _encode(Image.new("RGBA", (20, 10), (0, 0, 0, 128)), fmt, exif=_gps_exif())
    copy = public_copy(content)
    with Image.open(io.BytesIO(copy)) as image:
        assert image.format == fmt
        assert not image.getexif()
        assert image.mode == "RGBA"
    assert b"Bihuan test phone" not in copy


def test_the_public_copy_refuses_what_is_not_a_photo():
    with pytest.raises(ValidationFailed):
        public_copy(b"not a photo at all")


# ---------------------------------------------------------------- one decode per file


@pytest.fixture
def decodes(monkeypatch):
    """The full decodes made, one list entry each."""
    made: list[str] = []
    real = images._decode

    def counting(image: Image.Image) -> None:
        made.append(str(image.format))
        real(image)

    monkeypatch.setattr(images, "_decode", counting)
    return made


def test_the_same_photo_checked_twice_is_decoded_once(decodes):
    content = _encode(Image.new("RGB", (64, 48), (1, 2, 3)), "JPEG", exif=_gps_exif())
    first = validate_image(content)
    again = validate_image(bytes(content))  # equal bytes, another object: as the service gets
    assert first == again and again.latitude == 28.91  # the EXIF is read every time
    assert decodes == ["JPEG"]
    validate_image(_photo("PNG"))
    assert decodes == ["JPEG", "PNG"]  # another file is decoded


def test_a_damaged_photo_is_refused_every_time(decodes):
    content = _encode(Image.effect_noise((400, 300), 60).convert("RGB"), "JPEG")
    broken = content[: len(content) * 2 // 3]
    for _ in range(2):
        assert "damaged or incomplete" in _refusal(broken)
    assert decodes == ["JPEG", "JPEG"]


def test_the_limits_hold_for_a_photo_decoded_before(settings, decodes):
    content = _photo("PNG", (50, 50))
    validate_image(content)
    settings.BIHUAN_MAX_IMAGE_PIXELS = 1000
    assert "too many pixels" in _refusal(content)
    settings.BIHUAN_MAX_UPLOAD_BYTES = len(content) - 1
    assert "at most" in _refusal(content)
    assert "Only photos" in _refusal(content[:20])
