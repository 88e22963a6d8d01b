"""
Settings for the browser tests: the example project under ``Content-Security-Policy:
default-src 'self'``. With ``STRICT_CSP_BY=django`` Django's own middleware sends the header
(6.0 and later); otherwise ``strict_policy`` below does, on every supported Django.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from example_project.settings import *  # noqa: F403
from example_project.settings import MIDDLEWARE

POLICY = "default-src 'self'"


def strict_policy(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Send ``POLICY`` with every response."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response["Content-Security-Policy"] = POLICY
        return response

    return middleware


if os.environ.get("STRICT_CSP_BY") == "django":
    from django.utils.csp import CSP

    SECURE_CSP = {"default-src": [CSP.SELF]}
    MIDDLEWARE = ["django.middleware.csp.ContentSecurityPolicyMiddleware", *MIDDLEWARE]
else:
    MIDDLEWARE = ["tests.e2e.strict_csp.strict_policy", *MIDDLEWARE]
