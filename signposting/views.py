"""Pages that belong to no single app."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.models import User
from signposting.home import home_summary


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Each of the signed-in user's roles, summarised within their scope, with its links."""
    user = request.user
    assert isinstance(user, User)  # LoginRequiredMiddleware: only signed-in users get here
    return render(request, "home.html", {"summary": home_summary(user=user)})
