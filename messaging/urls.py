"""Staff pages that compose and control campaigns, included at /campaigns/ (reports/urls.py
has the pages that read them)."""

from django.urls import path

from messaging import media_views, views

app_name = "messaging"

urlpatterns = [
    path("new/", views.compose_choose, name="compose_choose"),
    path("new/<str:channel>/", views.campaign_new, name="campaign_new"),
    path("<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<int:pk>/progress/", views.campaign_progress, name="campaign_progress"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/recipients/", views.campaign_recipients, name="campaign_recipients"),
    path("<int:pk>/test-send/", views.campaign_test_send, name="campaign_test_send"),
    path("<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("<int:pk>/clone/", views.campaign_clone, name="campaign_clone"),
    path(
        "<int:pk>/recipients/<int:message_pk>/remove/",
        views.campaign_recipient_remove,
        name="campaign_recipient_remove",
    ),
    path("<int:pk>/check-handsets/", views.campaign_check_handsets, name="campaign_check_handsets"),
    path("<int:pk>/drop-no-mms/", views.campaign_drop_no_mms, name="campaign_drop_no_mms"),
    *(
        path(
            f"<int:pk>/{action}/",
            views.campaign_control,
            {"action": action},
            name=f"campaign_{action.replace('-', '_')}",
        )
        for action in views.CONTROLS
    ),
    path("<int:pk>/slides/<int:slide_pk>/media/", media_views.slide_media, name="slide_media"),
    path("messages/<int:pk>/resend/", views.message_resend, name="message_resend"),
]
