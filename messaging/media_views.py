"""An MMS slide's media file, for the campaign and message pages' thumbnails.

Served through a view rather than MEDIA_URL: a campaign's content is seen only by those
granted its application, so the view asks what every campaign page asks (visible_campaign)
before it sends a byte.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404

from messaging.guards import can_view_campaigns, visible_campaign
from messaging.models import Slide


@login_required
@can_view_campaigns
def slide_media(request: HttpRequest, pk: int, slide_pk: int) -> FileResponse:
    campaign = visible_campaign(request, pk)
    slide = get_object_or_404(Slide, pk=slide_pk, campaign=campaign)
    if not slide.media:
        raise Http404("This slide has no media.")
    try:
        media = slide.media.open("rb")
    except FileNotFoundError as missing:
        raise Http404("This slide's media file is missing.") from missing
    # The type the upload was checked to be (messaging.media), never one guessed from a name.
    response = FileResponse(media, content_type=slide.mime or "application/octet-stream")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
