"""The baseline for bench/postbacks.py: the least a Django view can do with a postback, one
INSERT of its body, behind the same middleware as the real webhook."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from postbacks.models import PostbackInbox


@csrf_exempt
@require_POST
def bare(request, ref: str, mac: str) -> HttpResponse:
    PostbackInbox.objects.create(body=request.body, headers={})
    return HttpResponse("OK", content_type="text/plain")


urlpatterns = [path("bare/<str:ref>/<str:mac>/", bare)]
