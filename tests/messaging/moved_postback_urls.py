"""A URLconf with the postback routes under /hooks/, for test_postback_urls."""

from django.urls import include, path

urlpatterns = [path("hooks/postbacks/", include("postbacks.urls"))]
