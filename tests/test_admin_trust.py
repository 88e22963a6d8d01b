"""
Who may change what the site trusts, and the trace each change leaves: the connection
fields, the allowed host names, the audit of settings changes and of cleared lockouts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from django_singleconnect import signals
from django_singleconnect.conf import get_config
from django_singleconnect.models import (
    AttemptCounter,
    SingleConnectConfiguration,
    VerificationEvent,
)
from tests.test_admin import (
    ADD_URL,
    CHANGE_URL,
    COUNTERS_URL,
    EVENTS_URL,
    FORM,
    effective,
    verify_session,
)

pytestmark = pytest.mark.django_db

CONNECTION = ("hostname", "application_name", "enforce")
EVIL = "evil.example.com"


def staff(name: str, *codenames: str) -> User:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_singleconnect")
        .filter(codename__in=codenames)
        .all()
    )
    return User.objects.get(pk=user.pk)  # no permission cache


def signed_in(user: User) -> Client:
    client = Client()
    verify_session(client, user)
    return client


MODEL_PERMISSIONS = (
    "add_singleconnectconfiguration",
    "change_singleconnectconfiguration",
    "view_singleconnectconfiguration",
)


@pytest.fixture
def settings_staff() -> Client:
    """Staff who may change "Single Connect settings", but not the connection."""
    return signed_in(staff("editor", *MODEL_PERMISSIONS))


@pytest.fixture
def changes_seen() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        seen.append(kwargs)

    signals.settings_changed.connect(receiver)
    yield seen
    signals.settings_changed.disconnect(receiver)


# -- the connection fields ----------------------------------------------------------------------


def test_the_model_permission_alone_cannot_change_the_connection(settings_staff: Client) -> None:
    SingleConnectConfiguration.objects.create(max_attempts=4)
    page = settings_staff.get(CHANGE_URL)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert not set(CONNECTION) & set(form.fields)
    assert "max_attempts" in form.fields

    response = settings_staff.post(
        CHANGE_URL,
        {
            **FORM,
            "hostname": EVIL,
            "application_name": "x",
            "enforce": "decorated",
            "max_attempts": "3",
        },
    )
    assert response.status_code == 302
    row = SingleConnectConfiguration.objects.get()
    assert (row.hostname, row.application_name, row.enforce) == ("", "", "")
    assert row.max_attempts == 3  # the other policies keep the model permissions
    assert get_config().HOSTNAME == "sc.example.com"


def test_on_a_fresh_install_the_add_permission_is_no_way_around(settings_staff: Client) -> None:
    assert not SingleConnectConfiguration.objects.exists()
    form = {**FORM, "hostname": EVIL, "enforce": "decorated"}
    assert settings_staff.post(ADD_URL, form).status_code == 403  # no add form, ever
    # The first save of the row made on the way to its form.
    response = settings_staff.post(CHANGE_URL, form)
    assert response.status_code == 302
    row = SingleConnectConfiguration.objects.get()
    assert (row.hostname, row.enforce) == ("", "")
    assert get_config().HOSTNAME == "sc.example.com"


@pytest.mark.parametrize("who", ["superuser", "permission"])
def test_superusers_and_the_connection_permission_may(who: str) -> None:
    if who == "superuser":
        user = User.objects.create_superuser("root", password="pw")
    else:
        user = staff("operator", *MODEL_PERMISSIONS, "change_connection")
    client = signed_in(user)
    response = client.post(CHANGE_URL, {**FORM, "hostname": "sc2.example.com", "enforce": "all"})
    assert response.status_code == 302
    config = get_config()
    assert (config.HOSTNAME, config.ENFORCE) == ("sc2.example.com", "all")


def test_no_default_group_or_staff_flag_holds_the_connection_permission() -> None:
    user = User.objects.create_user("plain", password="pw", is_staff=True)
    assert not user.has_perm("django_singleconnect.change_connection")
    assert not Permission.objects.get(codename="change_connection").group_set.exists()


# -- allowed host names ---------------------------------------------------------------------


@pytest.fixture
def root() -> Client:
    return signed_in(User.objects.create_superuser("root", password="pw"))


@pytest.fixture
def allowed(settings: Any) -> None:
    settings.SINGLECONNECT_ALLOWED_HOSTNAMES = ["sc.example.com", "SC2.example.com:8443"]


def test_a_host_name_outside_the_list_is_refused_on_save(root: Client, allowed: None) -> None:
    SingleConnectConfiguration.objects.create(hostname="sc2.example.com:8443")
    for refused in (EVIL, "sc2.example.com", "sc2.example.com:8444"):
        response = root.post(CHANGE_URL, {**FORM, "hostname": refused})
        assert response.status_code == 200
        assert "SINGLECONNECT_ALLOWED_HOSTNAMES" in str(
            response.context["adminform"].form.errors["hostname"]
        )
        # "In force now" shows what is saved, not the refused value the form holds.
        rows = effective(response)
        assert rows["SINGLECONNECT_HOSTNAME"] == ("'sc2.example.com:8443'", "this page")
        assert SingleConnectConfiguration.objects.get().hostname == "sc2.example.com:8443"
    assert get_config().HOSTNAME == "sc2.example.com:8443"
    # Case does not matter; the list is matched as a whole host:port.
    assert root.post(CHANGE_URL, {**FORM, "hostname": "sc2.EXAMPLE.com:8443"}).status_code == 302


def test_a_row_written_past_the_form_cannot_widen_the_list(root: Client, allowed: None) -> None:
    SingleConnectConfiguration.objects.create(hostname="sc2.example.com:8443")
    assert get_config().HOSTNAME == "sc2.example.com:8443"
    # A shell, a data migration, a restored backup: no form, no clean().
    SingleConnectConfiguration.objects.filter(pk=1).update(hostname=EVIL)
    SingleConnectConfiguration._forget_cached()
    assert get_config().HOSTNAME == "sc.example.com"  # settings.py's, never the row's
    rows = effective(root.get(CHANGE_URL))
    assert rows["SINGLECONNECT_HOSTNAME"] == ("'sc.example.com'", "settings.py")


def test_every_node_must_be_in_the_list(root: Client, allowed: None) -> None:
    SingleConnectConfiguration.objects.create(hostname="sc2.example.com:8443")
    response = root.post(CHANGE_URL, {**FORM, "hostname": f"sc.example.com, {EVIL}"})
    assert response.context["adminform"].form.errors["hostname"] == [
        f"{EVIL}: not in SINGLECONNECT_ALLOWED_HOSTNAMES: sc.example.com, SC2.example.com:8443."
    ]
    assert SingleConnectConfiguration.objects.get().hostname == "sc2.example.com:8443"
    both = "sc2.example.com:8443 sc.example.com"
    assert root.post(CHANGE_URL, {**FORM, "hostname": both}).status_code == 302
    assert get_config().NODES == ("sc2.example.com:8443", "sc.example.com")
    # Past the form, one node outside the list is enough for the row to be ignored.
    SingleConnectConfiguration.objects.filter(pk=1).update(hostname=f"sc.example.com,{EVIL}")
    SingleConnectConfiguration._forget_cached()
    assert get_config().NODES == ("sc.example.com",)  # settings.py's


def test_without_a_list_any_valid_host_name_may_be_saved(root: Client) -> None:
    assert root.post(CHANGE_URL, {**FORM, "hostname": EVIL}).status_code == 302
    assert get_config().HOSTNAME == EVIL


# -- the trace of a change -----------------------------------------------------------------------


def test_every_change_is_recorded_with_who_and_each_old_and_new_value(
    root: Client, changes_seen: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="django_singleconnect")
    root.post(CHANGE_URL, {**FORM, "hostname": "sc2.example.com", "max_attempts": "3"})
    root.post(CHANGE_URL, {**FORM, "hostname": "sc3.example.com", "max_attempts": "3"})
    root.post(CHANGE_URL, {**FORM, "hostname": "sc3.example.com", "max_attempts": "3"})  # same

    first, second = VerificationEvent.objects.filter(
        event=VerificationEvent.Kind.SETTINGS_CHANGED
    ).order_by("pk")
    admin = User.objects.get(username="root")
    assert (first.user, first.username) == (admin, "root")
    assert first.changes == {"hostname": [None, "sc2.example.com"], "max_attempts": [None, 3]}
    assert second.changes == {"hostname": ["sc2.example.com", "sc3.example.com"]}
    assert second.detail == "hostname: 'sc2.example.com' → 'sc3.example.com'"
    assert second.created_at is not None

    assert [seen["changes"] for seen in changes_seen] == [
        {"hostname": (None, "sc2.example.com"), "max_attempts": (None, 3)},
        {"hostname": ("sc2.example.com", "sc3.example.com")},
    ]
    assert changes_seen[1]["user"] == admin
    assert changes_seen[1]["sender"] is SingleConnectConfiguration
    warnings = [r.getMessage() for r in caplog.records if "settings changed" in r.getMessage()]
    assert warnings[1] == (
        "Single Connect settings changed by 'root': hostname: 'sc2.example.com' → 'sc3.example.com'"
    )


def test_a_change_outside_the_admin_is_recorded_too(changes_seen: list[dict[str, Any]]) -> None:
    row = SingleConnectConfiguration.objects.create(enforce="all")
    row.enforce = ""
    row.save()
    events = VerificationEvent.objects.filter(event=VerificationEvent.Kind.SETTINGS_CHANGED)
    assert [(e.user, e.username, e.changes) for e in events.order_by("pk")] == [
        (None, "", {"enforce": [None, "all"]}),
        (None, "", {"enforce": ["all", None]}),
    ]
    assert [seen["user"] for seen in changes_seen] == [None, None]


def test_the_change_is_shown_in_the_audit_log(root: Client) -> None:
    root.post(CHANGE_URL, {**FORM, "hostname": "sc2.example.com"})
    event = VerificationEvent.objects.get(event=VerificationEvent.Kind.SETTINGS_CHANGED)
    page = root.get(f"{EVENTS_URL}{event.pk}/change/").content.decode()
    assert "<td><code>None</code></td><td><code>&#x27;sc2.example.com&#x27;</code></td>" in page
    listing = root.get(EVENTS_URL).content.decode()
    assert "Settings changed" in listing


# -- clearing a lockout --------------------------------------------------------------------------


@pytest.fixture
def locked() -> AttemptCounter:
    now = timezone.now()
    return AttemptCounter.objects.create(
        username="alice", failures=5, last_attempt_at=now, locked_until=now + dt.timedelta(hours=1)
    )


def test_a_view_only_user_cannot_clear_a_lockout(locked: AttemptCounter) -> None:
    viewer = signed_in(staff("viewer", "view_attemptcounter"))
    listing = viewer.get(COUNTERS_URL)
    assert listing.status_code == 200
    assert "clear_lockout" not in listing.content.decode()
    response = viewer.post(
        COUNTERS_URL, {"action": "clear_lockout", "_selected_action": [locked.pk]}
    )
    # The action is not offered to this user: the list again, or "No action selected".
    assert response.status_code in (200, 302)
    locked.refresh_from_db()
    assert locked.locked_until is not None
    assert not VerificationEvent.objects.filter(event=VerificationEvent.Kind.LOCKOUT_CLEARED)


def test_each_cleared_lockout_is_recorded(locked: AttemptCounter) -> None:
    other = AttemptCounter.objects.create(username="bob", failures=2)
    held = (
        f"locked until {locked.locked_until:%Y-%m-%d %H:%M:%S} UTC, {locked.failures} wrong codes"
    )
    operator = staff("operator", "view_attemptcounter", "change_attemptcounter")
    client = signed_in(operator)
    response = client.post(
        COUNTERS_URL,
        {"action": "clear_lockout", "_selected_action": [locked.pk, other.pk]},
        follow=True,
    )
    assert "Cleared 2 accounts." in response.content.decode()
    locked.refresh_from_db()
    assert locked.locked_until is None
    cleared = VerificationEvent.objects.filter(event=VerificationEvent.Kind.LOCKOUT_CLEARED)
    assert sorted((e.username, e.user, e.detail) for e in cleared) == [
        ("alice", operator, f"by operator: {held}"),  # who, when, and what it held
        ("bob", operator, "by operator: 2 wrong codes"),
    ]
