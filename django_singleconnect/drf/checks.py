"""The system check for DRF's authentication classes under ``SINGLECONNECT_ENFORCE = "all"``."""

from __future__ import annotations

from typing import Any, cast

from django.core.checks import CheckMessage, Warning

from ..conf import Settings

#: The one class whose user the middleware sees: it reads Django's session.
SEEN = frozenset({"rest_framework.authentication.SessionAuthentication"})


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def check_authentication(**kwargs: Any) -> list[CheckMessage]:
    """
    DRF authenticates inside the view, so the middleware sees an anonymous user wherever a
    class other than the session one signs the request in.
    """
    from rest_framework.settings import api_settings

    if Settings().ENFORCE != "all":
        return []
    # api_settings imports the dotted paths: these are the classes.
    classes = cast(list[type], api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    unseen = [_name(cls) for cls in classes if not any(_name(base) in SEEN for base in cls.__mro__)]
    if not unseen:
        return []
    return [
        Warning(
            "SINGLECONNECT_ENFORCE is 'all', and DRF authenticates with "
            f"{', '.join(unseen)}, whose users the middleware cannot see.",
            hint="Requests with an Authorization header reach only the views you exempt, and "
            "tokens are handed out only to verified sessions; credentials sent any other "
            "way (a query string, another header) pass as anonymous. Put "
            "django_singleconnect.drf.IsSingleConnectVerified in "
            "DEFAULT_PERMISSION_CLASSES, or remove the classes you do not need.",
            id="django_singleconnect.W060",
        )
    ]
