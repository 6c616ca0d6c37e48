"""What an uploaded MMS media file really is, judged by its first bytes.

A browser's declared type and the file's extension are only claims: a text file renamed to
.png would be base64'd and sent to a handset as an image, and fail there. So the content decides
(`sniff_media`), and a name or declared type that disagrees with it is refused
(`media_identify`). Only formats MMS handsets commonly play are recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

# Enough for every signature below; the OGG/Theora check reads up to byte 35.
HEAD_BYTES = 64

# What browsers send when they do not know the type: says nothing, so it is not held against
# the file.
_UNKNOWN_DECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


@dataclass(frozen=True)
class MediaFormat:
    media_type: str  # image | video | audio, as the MMS slide content type
    mime: str  # the canonical type we send
    label: str  # for error messages
    extensions: frozenset[str]
    # Other spellings browsers and operating systems use for the same format.
    aliases: frozenset[str] = frozenset()

    def accepts_mime(self, declared: str) -> bool:
        return declared == self.mime or declared in self.aliases


def _format(media_type, mime, label, extensions, aliases=()) -> MediaFormat:
    return MediaFormat(media_type, mime, label, frozenset(extensions), frozenset(aliases))


FORMATS: dict[str, MediaFormat] = {
    fmt.mime: fmt
    for fmt in (
        _format("image", "image/jpeg", "JPEG image", {".jpg", ".jpeg", ".jpe", ".jfif"},
                {"image/jpg", "image/pjpeg"}),
        _format("image", "image/png", "PNG image", {".png"}, {"image/x-png"}),
        _format("image", "image/gif", "GIF image", {".gif"}),
        _format("image", "image/webp", "WebP image", {".webp"}),
        _format("video", "video/mp4", "MP4 video", {".mp4", ".m4v", ".mpg4"},
                {"application/mp4"}),
        # 3GP may hold audio only; browsers then call it audio/3gpp.
        _format("video", "video/3gpp", "3GP video", {".3gp", ".3gpp"}, {"audio/3gpp"}),
        _format("video", "video/3gpp2", "3G2 video", {".3g2", ".3gpp2"}, {"audio/3gpp2"}),
        _format("audio", "audio/mp4", "MPEG-4 audio", {".m4a", ".m4b", ".mp4"},
                {"audio/x-m4a", "audio/m4a"}),
        _format("audio", "audio/mpeg", "MP3 audio", {".mp3", ".mpga"},
                {"audio/mp3", "audio/mpeg3", "audio/x-mpeg", "audio/x-mp3"}),
        _format("audio", "audio/amr", "AMR audio", {".amr"}, {"audio/x-amr"}),
        _format("audio", "audio/amr-wb", "AMR-WB audio", {".awb", ".amr"}),
        _format("audio", "audio/wav", "WAV audio", {".wav"},
                {"audio/x-wav", "audio/wave", "audio/vnd.wave"}),
        _format("audio", "audio/ogg", "Ogg audio", {".ogg", ".oga", ".opus"},
                {"application/ogg", "audio/opus"}),
        _format("video", "video/ogg", "Ogg video", {".ogv", ".ogg"}, {"application/ogg"}),
        _format("audio", "audio/midi", "MIDI audio", {".mid", ".midi"},
                {"audio/x-midi", "audio/mid"}),
    )
}  # fmt: skip

SUPPORTED_LABELS = "JPEG, PNG, GIF, WebP, MP4, 3GP, MP3, AMR, WAV, OGG or MIDI"

# ISO base media ("ftyp") brands that are still images, not video: HEIC/AVIF photos from
# phones. Handsets cannot show them in an MMS.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"mif1", b"msf1", b"avif", b"avis"})


class MediaMismatch(ValueError):
    """The file is not media we can send, or its name or declared type contradicts it."""


def sniff_media(head: bytes) -> tuple[str, str] | None:
    """(media_type, mime) of the format whose signature starts `head`, or None."""
    fmt = _sniff_format(head)
    return (fmt.media_type, fmt.mime) if fmt else None


def _sniff_format(head: bytes) -> MediaFormat | None:
    mime = _sniff_mime(head)
    return FORMATS[mime] if mime else None


def _sniff_mime(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return _ftyp_mime(head[8:12])
    if head.startswith(b"#!AMR-WB\n"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "audio/amr"
    if head.startswith(b"OggS"):
        # The first packet starts at byte 28 of the first page; Theora marks video.
        return "video/ogg" if head[28:35] == b"\x80theora" else "audio/ogg"
    if head.startswith(b"MThd"):
        return "audio/midi"
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return "audio/mpeg"
    return None


def _ftyp_mime(brand: bytes) -> str | None:
    if brand in _IMAGE_BRANDS:
        return None
    if brand.startswith(b"3gp"):
        return "video/3gpp"
    if brand.startswith(b"3g2"):
        return "video/3gpp2"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    return "video/mp4"


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MP3 without an ID3 tag starts straight with a frame header."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    # The reserved values rule out AAC (layer 0) and random bytes that happen to start 0xFFE.
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and sample_rate != 0b11


def media_identify(*, head: bytes, filename: str, declared_mime: str = "") -> MediaFormat:
    """The format of an upload, checked against its name and the type the browser declared.

    Raises MediaMismatch with a reason a composer can act on.
    """
    fmt = _sniff_format(head)
    if fmt is None:
        raise MediaMismatch(
            f"the content of {filename!r} is not an image, video or audio file that MMS can "
            f"carry ({SUPPORTED_LABELS})"
        )
    extension = PurePosixPath(filename).suffix.lower()
    if not extension:
        raise MediaMismatch(
            f"{filename!r} has no extension; its content is a {fmt.label}, so name it "
            f"{_example_name(filename, fmt)}"
        )
    if extension not in fmt.extensions:
        raise MediaMismatch(
            f"the content of {filename!r} is a {fmt.label}, but its name ends in {extension}"
        )
    declared = declared_mime.split(";", 1)[0].strip().lower()
    if declared not in _UNKNOWN_DECLARED and not fmt.accepts_mime(declared):
        raise MediaMismatch(
            f"the content of {filename!r} is a {fmt.label}, but it was uploaded as {declared}"
        )
    return fmt


def _example_name(filename: str, fmt: MediaFormat) -> str:
    return filename + sorted(fmt.extensions)[0]
