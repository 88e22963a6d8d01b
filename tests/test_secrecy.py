"""
What the package keeps off Django's technical error pages: the cookies and headers sent to
Single Connect, proxy passwords, and the code, in settings and in the frames' variables.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
import requests
from django.test import Client, RequestFactory
from django.views.debug import (
    ExceptionReporter,
    SafeExceptionReporterFilter,
    get_default_exception_reporter_filter,
)

from django_singleconnect import secrecy
from django_singleconnect.client import SingleConnectClient
from django_singleconnect.secrecy import hidden_on_debug_pages
from django_singleconnect.simulator import Simulator

pytestmark = pytest.mark.django_db

COOKIE = "c00kie-value-7f3a"
HEADER = "header-value-91bd"
PROXY_PASSWORD = "proxy-pa55-42"
CODE = "246801"


@pytest.fixture
def secrets(settings: Any) -> None:
    settings.DEBUG = True
    settings.SINGLECONNECT_COOKIES = {"netright-sessionid": COOKIE, "XSRF-TOKEN": COOKIE}
    settings.SINGLECONNECT_EXTRA_HEADERS = {"X-Gateway": HEADER}
    settings.SINGLECONNECT_PROXIES = {"https": f"http://user:{PROXY_PASSWORD}@127.0.0.1:9"}


def error_page(exc_info: Any, status: int = 500) -> str:
    request = RequestFactory().post("/2fa/verify/", {"token": CODE})
    reporter = ExceptionReporter(request, *exc_info)
    return reporter.get_traceback_html() + reporter.get_traceback_text()


def test_the_settings_never_show_on_the_debug_page(secrets: None) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        page = error_page(sys.exc_info())
    assert "SINGLECONNECT_COOKIES" in page  # listed, with its value hidden
    for secret in (COOKIE, HEADER, PROXY_PASSWORD):
        assert secret not in page
    assert re.search(r"SINGLECONNECT_EXTRA_HEADERS.{0,80}\*{20}", page, re.S)


@pytest.mark.parametrize("broken", ["prepare", "send"])
def test_the_code_and_the_headers_never_show_on_the_debug_500_of_the_code_page(
    secrets: None,
    settings: Any,
    simulator: Simulator,
    signed_in: Client,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
) -> None:
    settings.SINGLECONNECT_PROXIES = None
    assert signed_in.get("/2fa/verify/").status_code == 200  # a code is sent

    def broken_prepare(self: Any, **kwargs: Any) -> Any:
        headers = kwargs["headers"]  # locals of a frame below the client's call
        data = kwargs["data"]
        raise RuntimeError(f"a bug, with {len(headers)} headers and {data.count('=')} fields")

    def broken_send(self: Any, request: Any, **kwargs: Any) -> Any:
        headers = request.headers
        data = request.body
        raise RuntimeError(f"a bug, with {len(headers)} headers and {data.count('=')} fields")

    if broken == "prepare":
        monkeypatch.setattr(requests.PreparedRequest, "prepare", broken_prepare)
    else:
        monkeypatch.setattr(requests.Session, "send", broken_send)
    signed_in.raise_request_exception = False
    response = signed_in.post("/2fa/verify/", {"token": CODE})
    page = response.content.decode()
    assert response.status_code == 500
    # Django's DEBUG page, frames and all: the session's 4 headers, the 2 given, Content-Type
    # (and Content-Length once prepared).
    headers = {"prepare": 7, "send": 8}[broken]
    assert f"a bug, with {headers} headers and 3 fields" in page
    assert f"broken_{broken}" in page
    for secret in (CODE, COOKIE, HEADER):
        assert secret not in page


def test_the_site_keeps_its_own_filter_class(settings: Any) -> None:
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "tests.test_secrecy.SiteFilter"
    get_default_exception_reporter_filter.cache_clear()  # Django keeps the first one
    try:
        seen: list[Any] = []
        request = RequestFactory().get("/")
        view = hidden_on_debug_pages(lambda r: seen.append(r.exception_reporter_filter))
        view(request)
    finally:
        get_default_exception_reporter_filter.cache_clear()
    (chosen,) = seen
    assert isinstance(chosen, SiteFilter)
    assert chosen.is_active(request) is True


class SiteFilter(SafeExceptionReporterFilter):
    """A site's own filter, as DEFAULT_EXCEPTION_REPORTER_FILTER may name."""


def test_the_filter_is_extended_once_and_keeps_djangos_own_names() -> None:
    secrecy.hide_secret_settings()
    secrecy.hide_secret_settings()
    pattern = SafeExceptionReporterFilter.hidden_settings
    assert pattern.pattern.count("SINGLECONNECT_COOKIES") == 1
    for name in ("SECRET_KEY", "DATABASE_PASSWORD", *secrecy.HIDDEN):
        assert pattern.search(name)
    for name in ("SINGLECONNECT_HOSTNAME", "SINGLECONNECT_COOKIES_EXTRA", "DEBUG"):
        assert not pattern.search(name)


def test_an_empty_address_is_refused_before_any_call(simulator: Simulator) -> None:
    client = SingleConnectClient()
    for empty in ("", "  "):
        with pytest.raises(ValueError, match="IP address"):
            client.otp_status("alice", empty)
    assert simulator.call_count() == 0
    assert client.breaker.counted() == 0
