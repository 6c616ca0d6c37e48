"""Staff pages of the applications' opt-out lists, included at /opt-outs/. (The public
unsubscribe page is at /unsubscribe/, in iliveit_portal/urls.py.)"""

from django.urls import path

from messaging import optout_views

app_name = "optouts"

urlpatterns = [
    path("", optout_views.application_list, name="applications"),
    path("<int:pk>/", optout_views.opt_out_list, name="list"),
    path("<int:pk>/add/", optout_views.opt_out_add, name="add"),
    path("<int:pk>/import/", optout_views.opt_out_import, name="import"),
    path("<int:pk>/opt-outs.csv", optout_views.opt_out_export, name="export"),
    path("<int:pk>/<int:entry_pk>/remove/", optout_views.opt_out_remove_page, name="remove"),
]
