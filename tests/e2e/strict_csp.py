"""
Settings for the browser tests: the example project under ``Content-Security-Policy:
default-src 'self'``, sent by Django's own middleware (``STRICT_CSP_BY=django``, Django 6.0
and later) or by django-csp (``STRICT_CSP_BY=django-csp``, every supported Django: what a
site on 5.2 uses).
"""

from __future__ import annotations

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import INSTALLED_APPS, MIDDLEWARE

if os.environ.get("STRICT_CSP_BY") == "django":
    from django.utils.csp import CSP

    SECURE_CSP = {"default-src": [CSP.SELF]}
    MIDDLEWARE = ["django.middleware.csp.ContentSecurityPolicyMiddleware", *MIDDLEWARE]
else:
    from csp.constants import SELF

    INSTALLED_APPS = [*INSTALLED_APPS, "csp"]
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF]}}
    MIDDLEWARE = ["csp.middleware.CSPMiddleware", *MIDDLEWARE]
