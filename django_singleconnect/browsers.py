"""The page "Browsers that skip the code": a verified user lists and forgets their own."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from . import history, remember
from .conf import get_config
from .decorators import singleconnect_required
from .forms import small_number
from .identity import counter_key, map_username
from .models import RememberedBrowser, VerificationEvent
from .network import client_ip


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@singleconnect_required
def browsers(request: HttpRequest) -> HttpResponse:
    config = get_config()
    user = history.who(request.user)  # signed in: the decorator saw to it
    mine = RememberedBrowser.objects.filter(user=user, expires_at__gt=timezone.now())
    if request.method == "POST":
        which = request.POST.get("forget", "")
        chosen = mine if which == "all" else mine.filter(pk=small_number(which, 18) or 0)
        names = sorted(set(chosen.values_list("username", flat=True)))
        count, _ = chosen.delete()
        if count:
            VerificationEvent.objects.create(
                user=user,
                username=", ".join(names) or counter_key(map_username(request.user, config) or ""),
                ip_address=client_ip(request, config.TRUSTED_PROXIES) or None,
                event=VerificationEvent.Kind.BROWSER_FORGOTTEN,
                detail=f"{count} by the user",
            )
        response = HttpResponseRedirect(reverse("singleconnect:browsers"))
        if which == "all":
            remember.forget_cookie(response, request.user)
        return response
    return render(
        request,
        "django_singleconnect/browsers.html",
        {"browsers": list(mine), "remember_days": config.REMEMBER_DAYS},
    )
