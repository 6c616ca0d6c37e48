from django.urls import path

from access import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("no-access/", views.no_access, name="no_access"),
    # Before the admin's own URLs, so its login page (where it sends the signed-out and those
    # without staff status) is this one.
    path("admin/login/", views.admin_sign_in, name="admin_sign_in"),
    path("admin/logout/", views.SignOutView.as_view(), name="admin_sign_out"),
]
