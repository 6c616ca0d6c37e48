"""The portal's own sign-in and sign-out. Anyone active with a role signs in here; staff
status only opens /admin/ (whose own login page sends people here)."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from access.roles import user_has_role
from iliveit_portal.security import ThrottledAuthenticationForm


class SignInView(LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "access/sign_in.html"

    def get_success_url(self) -> str:
        # get_redirect_url() keeps `next` only when it stays on this site.
        if not user_has_role(self.request.user):
            return reverse("no_access")
        return super().get_success_url()


class SignOutView(LogoutView):
    """POST only (Django's LogoutView refuses GET), so a link or prefetch cannot sign anyone
    out; back to the sign-in page."""

    next_page = "login"


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin's login URL, where Django sends anyone it turns away from /admin/: the one
    sign-in page instead, keeping `next`."""
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("login") + (f"?{query}" if query else ""))


@login_required
def no_access(request: HttpRequest) -> HttpResponse:
    """Where someone signed in without a role lands: a page that says so, rather than a 403
    on every link or a loop back to the sign-in."""
    if user_has_role(request.user):
        return redirect("/")
    return render(request, "access/no_access.html", status=403)
