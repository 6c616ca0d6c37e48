"""Staff pages that read campaigns: the list, dashboards, messages and the export, included at
/campaigns/ beside messaging's pages."""

from django.urls import path

from reports.views import campaigns, dashboard, messages, replies

app_name = "reports"

urlpatterns = [
    path("", campaigns.campaign_list, name="campaign_list"),
    path("<int:pk>/dashboard/", dashboard.campaign_dashboard_page, name="campaign_dashboard"),
    path("<int:pk>/messages/", messages.message_list, name="message_list"),
    path("<int:pk>/replies/", replies.campaign_replies, name="campaign_replies"),
    path("<int:pk>/messages.csv", messages.message_export, name="message_export"),
    path("messages/<int:pk>/", messages.message_detail, name="message_detail"),
    path("messages/<int:pk>/archived/", messages.message_archived_view, name="message_archived"),
    path(
        "messages/<int:pk>/replies/<int:reply_pk>/raw/",
        messages.message_reply_raw,
        name="message_reply_raw",
    ),
]
