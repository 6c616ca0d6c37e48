"""The public unsubscribe page, included at /unsubscribe/ (messaging.unsubscribe_links.PATH,
which makes the links). No namespace: its name is plain "unsubscribe"."""

from django.urls import path

from messaging import unsubscribe_views

urlpatterns = [
    path("<str:token>/", unsubscribe_views.unsubscribe, name="unsubscribe"),
]
