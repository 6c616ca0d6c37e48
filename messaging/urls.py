"""Staff pages for campaigns, included at /campaigns/."""

from django.urls import path

from messaging import dashboard_views, message_views, views

app_name = "messaging"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.compose_choose, name="compose_choose"),
    path("new/<str:channel>/", views.campaign_new, name="campaign_new"),
    path("<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<int:pk>/progress/", views.campaign_progress, name="campaign_progress"),
    path(
        "<int:pk>/dashboard/",
        dashboard_views.campaign_dashboard_page,
        name="campaign_dashboard",
    ),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/recipients/", views.campaign_recipients, name="campaign_recipients"),
    path("<int:pk>/test-send/", views.campaign_test_send, name="campaign_test_send"),
    path("<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    *(
        path(
            f"<int:pk>/{action}/",
            views.campaign_control,
            {"action": action},
            name=f"campaign_{action.replace('-', '_')}",
        )
        for action in views.CONTROLS
    ),
    # A campaign's messages, one message, and the export.
    path("<int:pk>/messages/", message_views.message_list, name="message_list"),
    path("<int:pk>/messages.csv", message_views.message_export, name="message_export"),
    path("messages/<int:pk>/", message_views.message_detail, name="message_detail"),
    path("messages/<int:pk>/resend/", message_views.message_resend, name="message_resend"),
    path(
        "messages/<int:pk>/archived/",
        message_views.message_archived_view,
        name="message_archived",
    ),
    path(
        "messages/<int:pk>/replies/<int:reply_pk>/raw/",
        message_views.message_reply_raw,
        name="message_reply_raw",
    ),
]
