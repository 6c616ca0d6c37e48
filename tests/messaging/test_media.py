import pytest

from messaging.media import MediaMismatch, media_identify, sniff_media
from tests.messaging.compose_helpers import GIF_BYTES, png_bytes


def _ftyp(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00isomiso2"


def _ogg(first_packet: bytes) -> bytes:
    return b"OggS\x00\x02" + b"\x00" * 22 + first_packet + b"\x00" * 20


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (png_bytes(), ("image", "image/png")),
        (GIF_BYTES, ("image", "image/gif")),
        (b"GIF87a\x01\x00\x01\x00", ("image", "image/gif")),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ("image", "image/jpeg")),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", ("image", "image/webp")),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", ("audio", "audio/wav")),
        (_ftyp(b"isom"), ("video", "video/mp4")),
        (_ftyp(b"mp42"), ("video", "video/mp4")),
        (_ftyp(b"3gp5"), ("video", "video/3gpp")),
        (_ftyp(b"3g2a"), ("video", "video/3gpp2")),
        (_ftyp(b"M4A "), ("audio", "audio/mp4")),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", ("audio", "audio/mpeg")),
        (b"\xff\xfb\x90\x64\x00", ("audio", "audio/mpeg")),  # MPEG-1 layer III frame
        (b"#!AMR\n\x3c", ("audio", "audio/amr")),
        (b"#!AMR-WB\n\x04", ("audio", "audio/amr-wb")),
        (_ogg(b"\x01vorbis"), ("audio", "audio/ogg")),
        (_ogg(b"OpusHead"), ("audio", "audio/ogg")),
        (_ogg(b"\x80theora"), ("video", "video/ogg")),
        (b"MThd\x00\x00\x00\x06", ("audio", "audio/midi")),
    ],
)
def test_it_recognises_media_by_its_first_bytes(head, expected):
    assert sniff_media(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"this is not an image at all\n",
        b"%PDF-1.7\n",
        b"PK\x03\x04",  # a zip (docx, xlsx)
        _ftyp(b"heic"),  # an iPhone photo: not something MMS handsets show
        _ftyp(b"avif"),
        b"\xff\xf1\x50\x80",  # AAC ADTS: the same sync bits as MP3, but layer 0
        b"\xff\xff\xff\xff",  # sync bits with reserved values
        b"RIFF\x24\x00\x00\x00AVI ",
    ],
)
def test_it_recognises_nothing_else(head):
    assert sniff_media(head) is None


def test_a_file_whose_name_and_type_agree_with_its_content_is_accepted():
    fmt = media_identify(head=png_bytes(), filename="dot.PNG", declared_mime="image/png")
    assert (fmt.media_type, fmt.mime) == ("image", "image/png")


def test_other_spellings_of_the_declared_type_are_accepted():
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    assert media_identify(head=jpeg, filename="a.jpeg", declared_mime="image/jpg").mime == (
        "image/jpeg"
    )
    mp3 = b"ID3\x04\x00"
    assert media_identify(head=mp3, filename="a.mp3", declared_mime="audio/mp3").mime == (
        "audio/mpeg"
    )


def test_a_declared_type_that_says_nothing_is_not_held_against_the_file():
    fmt = media_identify(head=GIF_BYTES, filename="a.gif", declared_mime="application/octet-stream")
    assert fmt.mime == "image/gif"
    assert media_identify(head=GIF_BYTES, filename="a.gif", declared_mime="").mime == "image/gif"


def test_text_dressed_as_an_image_is_refused():
    with pytest.raises(MediaMismatch, match="not an image, video or audio file"):
        media_identify(head=b"hello", filename="fake.png", declared_mime="image/png")


def test_a_png_named_jpg_is_refused():
    with pytest.raises(MediaMismatch, match=r"PNG image, but its name ends in \.jpg"):
        media_identify(head=png_bytes(), filename="photo.jpg", declared_mime="")


def test_a_png_uploaded_as_jpeg_is_refused():
    with pytest.raises(MediaMismatch, match="uploaded as image/jpeg"):
        media_identify(head=png_bytes(), filename="photo.png", declared_mime="image/jpeg")


def test_a_type_of_another_kind_is_refused():
    with pytest.raises(MediaMismatch, match="uploaded as video/mp4"):
        media_identify(head=GIF_BYTES, filename="a.gif", declared_mime="video/mp4; codecs=x")


def test_a_name_without_an_extension_is_refused_with_a_suggestion():
    with pytest.raises(MediaMismatch, match=r"no extension.*name it dot\.png"):
        media_identify(head=png_bytes(), filename="dot", declared_mime="image/png")
