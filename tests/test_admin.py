from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_singleconnect.admin import AttemptCounterAdmin, _shown
from django_singleconnect.conf import OPTIONS, get_config
from django_singleconnect.models import (
    AttemptCounter,
    SingleConnectConfiguration,
    VerificationEvent,
)
from django_singleconnect.state import is_verified, mark_verified

pytestmark = pytest.mark.django_db

CONFIG_URL = "/admin/django_singleconnect/singleconnectconfiguration/"
ADD_URL = f"{CONFIG_URL}add/"
CHANGE_URL = f"{CONFIG_URL}1/change/"
COUNTERS_URL = "/admin/django_singleconnect/attemptcounter/"
EVENTS_URL = "/admin/django_singleconnect/verificationevent/"
ROW = re.compile(
    r"<tr><th scope='row'><code>(?P<name>[^<]*)</code></th>"
    r"<td><code>(?P<value>[^<]*)</code></td><td>(?P<source>[^<]*)</td></tr>"
)
FORM = {
    "hostname": "",
    "application_name": "",
    "enforce": "",
    "otp_inactive_policy": "",
    "max_attempts": "",
    "lockout_seconds": "",
    "resend_cooldown": "",
}


def verify_session(client: Client, user: User) -> None:
    """Log ``user`` in and mark the session verified, as the code step would."""
    client.force_login(user)
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = user
    mark_verified(request, "otp")  # new session key, as after a real code
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    assert is_verified(request)


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser("admin", "admin@example.com", "pw")


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    verify_session(client, admin_user)
    return client


def effective(response: Any) -> dict[str, tuple[str, str]]:
    content = response.content.decode()
    return {
        match["name"]: (html.unescape(match["value"]), html.unescape(match["source"]))
        for match in ROW.finditer(content)
    }


def test_the_admin_needs_the_second_factor(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.get(CONFIG_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/2fa/verify/")
    verify_session(client, admin_user)
    assert client.get(CONFIG_URL).status_code == 302
    assert client.get(CHANGE_URL).status_code == 200


def test_the_list_goes_to_the_one_row_made_if_need_be(admin_client: Client) -> None:
    response = admin_client.get(CONFIG_URL)
    assert response.status_code == 302
    assert response["Location"] == CHANGE_URL
    row = SingleConnectConfiguration.objects.get()
    assert (row.pk, row.overrides()) == (1, {})  # empty: settings.py still decides
    assert not VerificationEvent.objects.exists()  # so nothing changed, nothing to record
    SingleConnectConfiguration.objects.filter(pk=1).update(hostname="admin.example.com")
    assert admin_client.get(CONFIG_URL)["Location"] == CHANGE_URL
    assert SingleConnectConfiguration.objects.get().hostname == "admin.example.com"
    # The index links to the form, and never offers to add another.
    index = admin_client.get("/admin/").content.decode()
    assert f'href="{CONFIG_URL}"' in index
    assert ADD_URL not in index


def test_the_form_opens_on_a_fresh_install_too(admin_client: Client) -> None:
    # A bookmark of the form, before anything made the row.
    response = admin_client.get(CHANGE_URL)
    assert response.status_code == 200
    assert response.context["original"].pk == 1
    assert admin_client.get(f"{CONFIG_URL}2/change/").status_code == 302  # the admin's "no such"
    assert SingleConnectConfiguration.objects.count() == 1


def test_staff_without_the_permissions_make_no_row() -> None:
    stranger = User.objects.create_user("stranger", password="pw", is_staff=True)
    client = Client()
    verify_session(client, stranger)
    assert client.get(CONFIG_URL).status_code == 403
    assert client.get(CHANGE_URL).status_code == 403
    assert not SingleConnectConfiguration.objects.exists()


def test_the_form_saves_and_nothing_else(admin_client: Client) -> None:
    content = admin_client.get(CHANGE_URL).content.decode()
    assert 'name="_save"' in content
    assert 'name="_continue"' in content
    for absent in ('name="_addanother"', 'name="_saveasnew"', "Save and add another", ADD_URL):
        assert absent not in content, absent


def fallback(response: Any, field: str) -> str:
    return str(response.context["adminform"].form.fields[field].help_text)


@override_settings(SINGLECONNECT_MAX_ATTEMPTS=7, SINGLECONNECT_ENFORCE="all")
def test_blank_fields_say_what_they_fall_back_to(admin_client: Client) -> None:
    SingleConnectConfiguration.objects.create(max_attempts=3)  # the row's value: still said
    response = admin_client.get(CHANGE_URL)
    assert fallback(response, "hostname") == (
        "host or host:port of Single Connect, without scheme or path. Several nodes, "
        "separated by commas, are tried in order when one cannot be reached. "
        "Empty: &#x27;sc.example.com&#x27;, from SINGLECONNECT_HOSTNAME in settings.py."
    )
    assert fallback(response, "max_attempts") == (
        "Empty: 7, from SINGLECONNECT_MAX_ATTEMPTS in settings.py."
    )
    assert fallback(response, "lockout_seconds") == (
        "Empty: 900, the default (SINGLECONNECT_LOCKOUT_SECONDS is not in settings.py)."
    )
    # A choice by its label, as the menu shows it.
    assert fallback(response, "enforce") == (
        "Empty: Every view for signed-in users, from SINGLECONNECT_ENFORCE in settings.py."
    )
    assert fallback(response, "otp_inactive_policy") == (
        "Empty: Allow: users without OTP pass the step, the default "
        "(SINGLECONNECT_OTP_INACTIVE_POLICY is not in settings.py)."
    )
    assert "Empty: 7, from SINGLECONNECT_MAX_ATTEMPTS in settings.py." in response.content.decode()


def test_the_fallback_follows_settings_py_and_is_escaped(
    admin_client: Client, settings: Any
) -> None:
    del settings.SINGLECONNECT_HOSTNAME
    settings.SINGLECONNECT_APPLICATION_NAME = "<b>intranet</b>"
    settings.SINGLECONNECT_OTP_INACTIVE_POLICY = "mysite.policies.who"  # a callable's path
    response = admin_client.get(CHANGE_URL)
    assert fallback(response, "hostname").endswith(
        "Empty: none, as SINGLECONNECT_HOSTNAME is not in settings.py."
    )
    content = response.content.decode()
    assert "<b>intranet</b>" not in content
    assert fallback(response, "application_name") == (
        "The application name this site is registered under in Single Connect. Empty: "
        "&#x27;&lt;b&gt;intranet&lt;/b&gt;&#x27;, from SINGLECONNECT_APPLICATION_NAME in "
        "settings.py."
    )
    assert fallback(response, "otp_inactive_policy") == (
        "Empty: &#x27;mysite.policies.who&#x27;, from SINGLECONNECT_OTP_INACTIVE_POLICY in "
        "settings.py."
    )


def test_every_effective_value_and_its_source(admin_client: Client) -> None:
    with override_settings(SINGLECONNECT_SCHEME="http", SINGLECONNECT_TIMEOUT=(1, 2)):
        response = admin_client.get(CHANGE_URL)
    assert response.status_code == 200
    rows = effective(response)
    assert list(rows) == [option.setting for option in OPTIONS.values()]
    assert rows["SINGLECONNECT_HOSTNAME"] == ("'sc.example.com'", "settings.py")
    assert rows["SINGLECONNECT_APPLICATION_NAME"] == ("'tests'", "settings.py")
    assert rows["SINGLECONNECT_SCHEME"] == ("'http'", "settings.py")
    assert rows["SINGLECONNECT_TIMEOUT"] == ("(1, 2)", "settings.py")
    assert rows["SINGLECONNECT_BASE_PATH"] == ("'/twofactorauth-ui/rest/tfa'", "default")
    assert rows["SINGLECONNECT_MAX_ATTEMPTS"] == ("5", "default")
    assert rows["SINGLECONNECT_VERIFY"] == ("True", "default")
    assert rows["SINGLECONNECT_COOKIES"] == ("{}", "default")
    assert rows["SINGLECONNECT_USERNAME"] == ("None", "default")


def test_the_change_page_shows_the_rows_values(admin_client: Client) -> None:
    SingleConnectConfiguration.objects.create(hostname="admin.example.com", resend_cooldown=0)
    rows = effective(admin_client.get(CHANGE_URL))
    assert rows["SINGLECONNECT_HOSTNAME"] == ("'admin.example.com'", "this page")
    assert rows["SINGLECONNECT_RESEND_COOLDOWN"] == ("0", "this page")
    assert rows["SINGLECONNECT_APPLICATION_NAME"] == ("'tests'", "settings.py")
    assert rows["SINGLECONNECT_LOCKOUT_SECONDS"] == ("900", "default")


SECRETS = ("cookie-secret-value", "header-secret-value", "proxy-password")


@override_settings(
    SINGLECONNECT_COOKIES={"JSESSIONID": "cookie-secret-value", "route": "cookie-secret-value"},
    SINGLECONNECT_EXTRA_HEADERS={"X-Gateway-Key": "header-secret-value"},
    SINGLECONNECT_PROXIES={
        "https": "http://proxyuser:proxy-password@proxy.example.com:3128",
        "http": "http://proxy.example.com:3128",
    },
)
def test_secrets_are_never_shown(admin_client: Client) -> None:
    SingleConnectConfiguration.objects.create(hostname="admin.example.com")
    for url in (CHANGE_URL, f"{CONFIG_URL}1/history/"):
        response = admin_client.get(url)
        assert response.status_code == 200
        content = response.content.decode()
        for secret in SECRETS:
            assert secret not in content
            assert html.escape(secret) not in content
    rows = effective(admin_client.get(CHANGE_URL))
    assert rows["SINGLECONNECT_COOKIES"] == ("JSESSIONID=•••, route=•••", "settings.py")
    assert rows["SINGLECONNECT_EXTRA_HEADERS"] == ("X-Gateway-Key=•••", "settings.py")
    assert rows["SINGLECONNECT_PROXIES"] == (
        "{'https': 'http://•••@proxy.example.com:3128', 'http': 'http://proxy.example.com:3128'}",
        "settings.py",
    )
    assert "proxyuser" not in admin_client.get(CHANGE_URL).content.decode()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "None"),
        ({}, "{}"),
        ({"https": "http://u:p@proxy:3128"}, "{'https': 'http://•••@proxy:3128'}"),
        ({"https": "http://user@proxy:3128"}, "{'https': 'http://•••@proxy:3128'}"),
        ({"https": "socks5://proxy:1080"}, "{'https': 'socks5://proxy:1080'}"),
        ({"https": None}, "{'https': None}"),  # the checks refuse it; the page must not crash
    ],
)
def test_proxies_are_shown_without_credentials(value: Any, shown: str) -> None:
    assert _shown("SINGLECONNECT_PROXIES", value) == shown


def test_the_first_save_overrides_and_drops_the_cache(admin_client: Client) -> None:
    assert get_config().HOSTNAME == "sc.example.com"  # cached now
    response = admin_client.post(
        CHANGE_URL, {**FORM, "hostname": "admin.example.com:8443", "max_attempts": "3"}
    )
    assert response.status_code == 302
    row = SingleConnectConfiguration.objects.get()
    assert row.pk == 1
    config = get_config()
    assert config.HOSTNAME == "admin.example.com:8443"
    assert config.MAX_ATTEMPTS == 3
    assert config.APPLICATION_NAME == "tests"


def test_changing_the_row_overrides_and_drops_the_cache(admin_client: Client) -> None:
    SingleConnectConfiguration.objects.create(hostname="admin.example.com", max_attempts=3)
    assert get_config().MAX_ATTEMPTS == 3  # cached now
    response = admin_client.post(
        CHANGE_URL,
        {**FORM, "application_name": "intranet", "enforce": "all", "resend_cooldown": "0"},
    )
    assert response.status_code == 302
    config = get_config()
    assert config.HOSTNAME == "sc.example.com"  # emptied: back to settings.py
    assert config.MAX_ATTEMPTS == 5
    assert config.APPLICATION_NAME == "intranet"
    assert config.ENFORCE == "all"
    assert config.RESEND_COOLDOWN == 0
    rows = effective(admin_client.get(CHANGE_URL))
    assert rows["SINGLECONNECT_ENFORCE"] == ("'all'", "this page")
    assert rows["SINGLECONNECT_HOSTNAME"] == ("'sc.example.com'", "settings.py")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hostname", "https://sc.example.com"),
        ("hostname", "sc.example.com/path"),
        ("hostname", "sc.example.com:0"),
        ("hostname", "not_a_host!"),
        ("hostname", ", ,"),  # separators, and no node
        ("hostname", "sc1.example.com, sc2.example.com/path"),
        ("enforce", "everything"),
        ("otp_inactive_policy", "maybe"),
        ("max_attempts", "0"),
        ("lockout_seconds", "0"),
        ("resend_cooldown", "-1"),
    ],
)
def test_bad_values_are_refused(admin_client: Client, field: str, value: str) -> None:
    assert get_config().HOSTNAME == "sc.example.com"
    response = admin_client.post(CHANGE_URL, {**FORM, field: value})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert SingleConnectConfiguration.stored_overrides() == {}
    assert get_config().HOSTNAME == "sc.example.com"


def test_each_wrong_node_is_named(admin_client: Client) -> None:
    value = "sc1.example.com, https://sc2.example.com, sc3.example.com:0"
    response = admin_client.post(CHANGE_URL, {**FORM, "hostname": value})
    assert response.context["adminform"].form.errors["hostname"] == [
        "https://sc2.example.com: Give the host name alone, without http:// or https://.",
        "sc3.example.com:0: The port must be a number from 1 to 65535.",
    ]


def test_several_nodes_are_saved_and_read_in_order(admin_client: Client) -> None:
    value = "sc2.example.com:8443,  sc1.example.com"
    assert admin_client.post(CHANGE_URL, {**FORM, "hostname": value}).status_code == 302
    assert get_config().NODES == ("sc2.example.com:8443", "sc1.example.com")
    assert get_config().HOSTNAME == "sc2.example.com:8443, sc1.example.com"


def test_only_one_row(admin_client: Client, admin_user: User) -> None:
    assert admin_client.get(ADD_URL).status_code == 403  # not even on a fresh install
    SingleConnectConfiguration.objects.create(hostname="admin.example.com")
    assert admin_client.get(ADD_URL).status_code == 403
    assert admin_client.post(ADD_URL, {**FORM, "hostname": "b.example.com"}).status_code == 403
    assert SingleConnectConfiguration.objects.count() == 1
    model_admin = site._registry[SingleConnectConfiguration]
    request = RequestFactory().get("/")
    request.user = admin_user
    assert model_admin.has_add_permission(request) is False


def test_the_row_cannot_be_deleted(admin_client: Client) -> None:
    SingleConnectConfiguration.objects.create(hostname="admin.example.com")
    response = admin_client.get(CHANGE_URL)
    assert response.status_code == 200
    assert f"{CONFIG_URL}1/delete/" not in response.content.decode()
    assert admin_client.get(f"{CONFIG_URL}1/delete/").status_code == 403
    assert admin_client.post(f"{CONFIG_URL}1/delete/", {"post": "yes"}).status_code == 403
    assert SingleConnectConfiguration.objects.exists()


# -- attempt counters ----------------------------------------------------------------------


def test_clearing_a_lockout(admin_client: Client) -> None:
    now = timezone.now()
    alice = AttemptCounter.objects.create(
        username="alice",
        failures=5,
        last_attempt_at=now,
        locked_until=now + dt.timedelta(minutes=15),
    )
    carol = AttemptCounter.objects.create(username="carol", failures=2, last_attempt_at=now)
    bob = AttemptCounter.objects.create(
        username="bob", failures=5, last_attempt_at=now, locked_until=now + dt.timedelta(minutes=15)
    )
    response = admin_client.get(COUNTERS_URL)
    assert response.status_code == 200
    assert "clear_lockout" in response.content.decode()

    response = admin_client.post(
        COUNTERS_URL,
        {"action": "clear_lockout", "_selected_action": [alice.pk, carol.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Cleared 2 accounts." in response.content.decode()
    alice.refresh_from_db()
    carol.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.failures, alice.locked_until) == (0, None)
    assert (carol.failures, carol.locked_until) == (0, None)
    assert bob.failures == 5
    assert bob.locked_until is not None

    response = admin_client.post(
        COUNTERS_URL, {"action": "clear_lockout", "_selected_action": [bob.pk]}, follow=True
    )
    assert "Cleared 1 account." in response.content.decode()
    bob.refresh_from_db()
    assert bob.locked_until is None


def test_counters_cannot_be_added(admin_client: Client) -> None:
    assert admin_client.get(f"{COUNTERS_URL}add/").status_code == 403


def test_counters_are_read_only_on_their_page(admin_client: Client) -> None:
    counter = AttemptCounter.objects.create(username="alice", failures=3)
    response = admin_client.get(f"{COUNTERS_URL}{counter.pk}/change/")
    assert response.status_code == 200
    assert 'name="failures"' not in response.content.decode()
    admin_client.post(f"{COUNTERS_URL}{counter.pk}/change/", {"failures": "0", "username": "x"})
    counter.refresh_from_db()
    assert (counter.username, counter.failures) == ("alice", 3)


def test_counters_are_never_written_by_their_page(admin_client: Client) -> None:
    # "Save" would write back the counts read a moment before, over a wrong code counted in
    # between by another request: the page has no Save, and a posted form writes nothing.
    counter = AttemptCounter.objects.create(username="alice", failures=3)
    page = f"{COUNTERS_URL}{counter.pk}/change/"
    content = admin_client.get(page).content.decode()
    assert 'name="_save"' not in content
    assert 'name="_continue"' not in content
    assert 'name="lockouts"' not in content  # every field read-only
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(page, {"_save": "Save"})
    assert response.status_code == 302
    table = AttemptCounter._meta.db_table
    assert not [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and table in q["sql"]]


@pytest.fixture
def locked() -> AttemptCounter:
    now = timezone.now()
    return AttemptCounter.objects.create(
        username="alice",
        failures=5,
        last_attempt_at=now,
        locked_until=now + dt.timedelta(minutes=15),
        lockouts=2,
    )


def clear_url(counter: AttemptCounter) -> str:
    return f"{COUNTERS_URL}{counter.pk}/clear/"


def clearances() -> list[tuple[str, Any, str]]:
    return [
        (event.username, event.user, event.detail)
        for event in VerificationEvent.objects.filter(
            event=VerificationEvent.Kind.LOCKOUT_CLEARED
        ).order_by("pk")
    ]


def test_the_clear_button_on_a_rows_own_page(
    admin_user: User, locked: AttemptCounter, password: str
) -> None:
    other = AttemptCounter.objects.create(username="bob", failures=2)
    held = f"locked until {locked.locked_until:%Y-%m-%d %H:%M:%S} UTC, 5 wrong codes"
    client = Client(enforce_csrf_checks=True)
    verify_session(client, admin_user)
    page = client.get(f"{COUNTERS_URL}{locked.pk}/change/")
    content = page.content.decode()
    assert f'formaction="{clear_url(locked)}"' in content
    assert 'value="Clear the lockout"' in content
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content)
    assert token is not None

    # Without the form's CSRF token: refused.
    assert client.post(clear_url(locked)).status_code == 403
    assert clearances() == []

    response = client.post(clear_url(locked), {"csrfmiddlewaretoken": token[1]}, follow=True)
    assert response.redirect_chain == [(f"{COUNTERS_URL}{locked.pk}/change/", 302)]
    assert "Cleared the lockout of alice: they may type codes again." in (response.content.decode())
    locked.refresh_from_db()
    assert (locked.failures, locked.locked_until, locked.lockouts) == (0, None, 0)
    other.refresh_from_db()
    assert other.failures == 2  # that row's user alone
    # What the counter held: the old value of what was changed.
    assert clearances() == [("alice", admin_user, f"by admin: {held}, 2 lockouts in a row")]


def test_the_clear_button_is_post_only_and_for_rows_that_exist(
    admin_client: Client, locked: AttemptCounter
) -> None:
    assert admin_client.get(clear_url(locked)).status_code == 405
    assert admin_client.post(f"{COUNTERS_URL}999/clear/").status_code == 404
    locked.refresh_from_db()
    assert locked.locked_until is not None
    assert clearances() == []


def test_only_staff_who_may_change_counters_get_the_button(locked: AttemptCounter) -> None:
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_attemptcounter"))
    client = Client()
    verify_session(client, viewer)
    page = client.get(f"{COUNTERS_URL}{locked.pk}/change/")
    assert page.status_code == 200
    assert "Clear the lockout" not in page.content.decode()
    assert client.post(clear_url(locked)).status_code == 403
    locked.refresh_from_db()
    assert locked.locked_until is not None
    assert clearances() == []
    # Not staff at all: the admin's login page.
    anonymous = Client()
    assert anonymous.post(clear_url(locked))["Location"].startswith("/admin/login/")


def test_deleting_a_row_clears_its_lockout_and_is_recorded(
    admin_client: Client, admin_user: User, locked: AttemptCounter
) -> None:
    until = f"{locked.locked_until:%Y-%m-%d %H:%M:%S}"
    response = admin_client.post(f"{COUNTERS_URL}{locked.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AttemptCounter.objects.filter(username="alice").exists()
    assert clearances() == [
        (
            "alice",
            admin_user,
            f"by admin (row deleted): locked until {until} UTC, 5 wrong codes, 2 lockouts in a row",
        )
    ]

    bob = AttemptCounter.objects.create(username="bob", failures=1)
    carol = AttemptCounter.objects.create(username="carol", failures=4)
    response = admin_client.post(
        COUNTERS_URL,
        {"action": "delete_selected", "_selected_action": [bob.pk, carol.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not AttemptCounter.objects.exists()
    assert sorted(clearances()[1:]) == [
        ("bob", admin_user, "by admin (row deleted): 1 wrong code"),
        ("carol", admin_user, "by admin (row deleted): 4 wrong codes"),
    ]


def test_names_agree_with_their_counts(admin_client: Client) -> None:
    AttemptCounter.objects.create(username="alice")
    assert "1 failed code attempt\n" in admin_client.get(COUNTERS_URL).content.decode()
    AttemptCounter.objects.create(username="bob")
    assert "2 failed code attempts\n" in admin_client.get(COUNTERS_URL).content.decode()
    for model in apps.get_app_config("django_singleconnect").get_models():
        singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
        if model is not SingleConnectConfiguration:  # one row: "settings" either way
            assert singular != plural, model


@pytest.mark.parametrize(("minutes", "expected"), [(None, False), (-1, False), (10, True)])
def test_is_locked(minutes: int | None, expected: bool) -> None:
    until = None if minutes is None else timezone.now() + dt.timedelta(minutes=minutes)
    counter = AttemptCounter(username="alice", locked_until=until)
    assert AttemptCounterAdmin(AttemptCounter, site).is_locked(counter) is expected


# -- the audit log -------------------------------------------------------------------------


@pytest.fixture
def event(admin_user: User) -> VerificationEvent:
    return VerificationEvent.objects.create(
        user=admin_user,
        username="alice-sc",
        ip_address="192.0.2.1",
        event=VerificationEvent.Kind.FAILED,
        detail="first",
    )


def test_the_audit_log_is_listed(admin_client: Client, event: VerificationEvent) -> None:
    response = admin_client.get(EVENTS_URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert "alice-sc" in content
    assert "192.0.2.1" in content
    assert "delete_selected" not in content
    response = admin_client.get(EVENTS_URL, {"q": "nobody"})
    assert "alice-sc" not in response.content.decode()


def test_audit_times_show_seconds(admin_client: Client, event: VerificationEvent) -> None:
    at = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
    VerificationEvent.objects.filter(pk=event.pk).update(created_at=at)
    listing = admin_client.get(EVENTS_URL).content.decode()
    assert re.search(r'<th class="field-time"><a [^>]+>2026-03-04 05:06:07</a></th>', listing)
    with override_settings(TIME_ZONE="Europe/Istanbul"):  # UTC+3: the site's time zone
        page = admin_client.get(f"{EVENTS_URL}{event.pk}/change/").content.decode()
    assert "2026-03-04 08:06:07" in page
    AttemptCounter.objects.create(username="alice", last_attempt_at=at, locked_until=at)
    listing = admin_client.get(COUNTERS_URL).content.decode()
    assert '<td class="field-last_attempt">2026-03-04 05:06:07</td>' in listing
    assert '<td class="field-locked_until_time">2026-03-04 05:06:07</td>' in listing


def test_the_audit_log_is_read_only(admin_client: Client, event: VerificationEvent) -> None:
    assert admin_client.get(f"{EVENTS_URL}add/").status_code == 403
    change = f"{EVENTS_URL}{event.pk}/change/"
    response = admin_client.get(change)
    assert response.status_code == 200  # viewing is allowed
    content = response.content.decode()
    assert 'name="detail"' not in content
    assert 'name="_save"' not in content
    assert admin_client.post(change, {"detail": "rewritten", "username": "x"}).status_code == 403
    assert admin_client.get(f"{EVENTS_URL}{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"{EVENTS_URL}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client.post(
        EVENTS_URL, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    event.refresh_from_db()
    assert (event.detail, event.username) == ("first", "alice-sc")
    assert VerificationEvent.objects.count() == 1
