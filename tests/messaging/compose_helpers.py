"""Users and small real media files for the compose, admin and form tests, and tests/support's
applications and campaigns. Plain functions (not fixtures) so that each test file's fixtures
say what they build."""

import struct
import zlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.applications import TOKEN, make_application  # noqa: F401 (used by importers)
from tests.support.campaigns import make_campaign  # noqa: F401 (used by importers)

# Sees every application's campaigns without a grant (access.roles' Admin holds it): for tests
# about what a permission allows rather than which applications a user is granted.
ALL_APPLICATIONS = "access.view_all_applications"


def make_user(username: str, *perms: str, staff: bool = True):
    """A user holding `perms` ("messaging.add_campaign", ...)."""
    # No password: tests log in with force_login, and hashing one costs about a second.
    user = get_user_model().objects.create_user(username=username, is_staff=staff)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def png_bytes() -> bytes:
    """A real 1x1 PNG, built here so the tests need no image library or fixture file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, one red pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# The smallest valid GIF: 1x1, one colour.
GIF_BYTES = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def png_upload(name: str = "dot.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type=content_type)


def fake_image_upload(name: str = "fake.png") -> SimpleUploadedFile:
    """Text wearing an image's name and type."""
    return SimpleUploadedFile(name, b"this is not an image at all\n", content_type="image/png")


def slide_data(slides: list[dict], *, initial: int = 0, prefix: str = "slides") -> dict:
    """POST data for the slide formset: one dict of field values per slide form."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(slides)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, slide in enumerate(slides):
        for key, value in slide.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data
