from django.urls import path, re_path

from api.errors import api_not_found
from api.views import campaigns, messages, opt_outs
from api.views.docs import RedocView, SchemaView, SwaggerView

app_name = "api"

urlpatterns = [
    path("campaigns/", campaigns.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/<int:pk>/", campaigns.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/stats/", campaigns.CampaignStatsView.as_view(), name="campaign_stats"),
    path(
        "campaigns/<int:pk>/recipients/",
        campaigns.CampaignRecipientsView.as_view(),
        name="campaign_recipients",
    ),
    path(
        "campaigns/<int:pk>/recipients/<str:recipient>/",
        campaigns.CampaignRecipientView.as_view(),
        name="campaign_recipient",
    ),
    path("campaigns/<int:pk>/clone/", campaigns.CampaignCloneView.as_view(), name="campaign_clone"),
    path(
        "campaigns/<int:pk>/handsets/",
        campaigns.CampaignHandsetsView.as_view(),
        name="campaign_handsets",
    ),
    path(
        "campaigns/<int:pk>/drop-no-mms/",
        campaigns.CampaignDropNoMmsView.as_view(),
        name="campaign_drop_no_mms",
    ),
    path(
        "campaigns/<int:pk>/launch/", campaigns.CampaignLaunchView.as_view(), name="campaign_launch"
    ),
    path("campaigns/<int:pk>/pause/", campaigns.CampaignPauseView.as_view(), name="campaign_pause"),
    path(
        "campaigns/<int:pk>/resume/", campaigns.CampaignResumeView.as_view(), name="campaign_resume"
    ),
    path(
        "campaigns/<int:pk>/cancel/", campaigns.CampaignCancelView.as_view(), name="campaign_cancel"
    ),
    path(
        "campaigns/<int:pk>/retry-failed/",
        campaigns.CampaignRetryFailedView.as_view(),
        name="campaign_retry_failed",
    ),
    path("messages/", messages.MessageListView.as_view(), name="message_list"),
    path("messages/<int:pk>/", messages.MessageDetailView.as_view(), name="message_detail"),
    path("messages/<int:pk>/resend/", messages.MessageResendView.as_view(), name="message_resend"),
    path("opt-outs/", opt_outs.OptOutListView.as_view(), name="opt_out_list"),
    path("opt-outs/<int:pk>/", opt_outs.OptOutDetailView.as_view(), name="opt_out_detail"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api:schema"), name="redoc"),
    # Last: any other /api/v1/ URL answers a JSON 404, not the portal's HTML page.
    re_path(r"^", api_not_found, name="not_found"),
]
