"""The portal's replies inbox, included at /replies/ (a campaign's own replies page is in
reports/urls.py, beside its messages)."""

from django.urls import path

from reports.views import replies

app_name = "replies"

urlpatterns = [
    path("", replies.reply_inbox, name="inbox"),
]
