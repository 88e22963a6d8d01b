"""Whom Single Connect is asked about: fixed when the login starts, counted under one key."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from django_singleconnect import budget, lockout
from django_singleconnect.conf import get_config
from django_singleconnect.identity import counter_key, map_username
from django_singleconnect.models import AttemptCounter, CodeBudget, VerificationEvent

VERIFY = "/2fa/verify/"
pytestmark = pytest.mark.django_db


def nickname_username(user: Any) -> Any:
    """A mapping built on something the user can edit: what the step must not follow."""
    return user.first_name or None


def failing_username(user: Any) -> str:
    raise LookupError("directory down")


def wrong_code(simulator: Any, username: str) -> str:
    return f"{(int(simulator.current_code(username)) + 1) % 10**6:06d}"


def test_counter_key_folds_case_and_compatibility_forms() -> None:
    assert counter_key("Vic") == counter_key("vic") == counter_key("VIC")
    assert counter_key("\uff56\uff49\uff43") == "vic"  # fullwidth letters
    assert counter_key("Straße") == counter_key("STRASSE")
    assert counter_key("vic") != counter_key("vik")


@pytest.mark.parametrize("returned", [None, "", "   "])
def test_a_mapping_without_a_name_gives_none(
    returned: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SINGLECONNECT_USERNAME = "tests.test_identity.nickname_username"
    user = type("User", (), {"first_name": returned, "pk": 7})()
    with caplog.at_level(logging.ERROR, "django_singleconnect"):
        assert map_username(user, get_config()) == ""
    assert "SINGLECONNECT_USERNAME" in caplog.text
    assert "pk=7" in caplog.text


def test_a_mapping_that_raises_gives_none(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.SINGLECONNECT_USERNAME = "tests.test_identity.failing_username"
    with caplog.at_level(logging.ERROR, "django_singleconnect"):
        assert map_username(object(), get_config()) == ""
    assert "SINGLECONNECT_USERNAME" in caplog.text


def test_the_log_names_the_setting_its_value_and_the_user(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    user = type("User", (), {"first_name": "", "pk": 7, "get_username": lambda self: " "})()
    with caplog.at_level(logging.ERROR, "django_singleconnect"):
        map_username(user, get_config())  # the default mapping, get_username()
        settings.SINGLECONNECT_USERNAME = "tests.test_identity.nickname_username"
        map_username(user, get_config())
        settings.SINGLECONNECT_USERNAME = "tests.test_identity.failing_username"
        map_username(user, get_config())
        map_username(object(), get_config())  # no pk at all
    no_name = "gave no name for user pk=7: no Single Connect username"
    raised = "raised for user pk={}: no Single Connect username"
    assert [record.getMessage() for record in caplog.records] == [
        f"SINGLECONNECT_USERNAME (get_username()) {no_name}",
        f"SINGLECONNECT_USERNAME (tests.test_identity.nickname_username) {no_name}",
        f"SINGLECONNECT_USERNAME (tests.test_identity.failing_username) {raised.format(7)}",
        f"SINGLECONNECT_USERNAME (tests.test_identity.failing_username) {raised.format(None)}",
    ]


def test_no_name_means_a_403_and_no_call(
    client: Client, user: Any, login: Any, simulator: Any, settings: Any
) -> None:
    settings.SINGLECONNECT_USERNAME = "tests.test_identity.nickname_username"
    login(client)
    response = client.get(VERIFY)
    assert response.status_code == 403
    assert "Sign-in codes are not set up for you" in response.content.decode()
    assert simulator.call_count("otpstatus") == 0
    assert VerificationEvent.objects.get().event == "not_set_up"
    response = client.post(VERIFY, {"token": "123456"})
    assert response.status_code == 403
    assert simulator.call_count("otpvalid") == 0


def test_changing_the_mapped_attribute_mid_step_changes_nothing(
    client: Client, user: Any, login: Any, simulator: Any, settings: Any, django_user_model: Any
) -> None:
    settings.SINGLECONNECT_USERNAME = "tests.test_identity.nickname_username"
    django_user_model.objects.create_user("victim", password="x")
    user.first_name = "alice"
    user.save()
    login(client)
    client.get(VERIFY)
    # Mid-step the attacker renames themself after the victim: the login keeps its name.
    user.first_name = "victim"
    user.save()
    response = client.post(VERIFY, {"token": simulator.current_code("alice")})
    assert response.status_code == 302
    assert simulator.current_code("victim") is None
    assert set(VerificationEvent.objects.values_list("username", flat=True)) == {"alice"}


def test_case_variants_share_one_lockout_and_one_budget(
    client: Client, django_user_model: Any, login: Any, simulator: Any, settings: Any
) -> None:
    settings.SINGLECONNECT_MAX_ATTEMPTS = 2
    # The Single Connect names come from the mapping: Django's own usernames "Vic" and
    # "vic" cannot both exist on MariaDB, whose default collation ignores case.
    settings.SINGLECONNECT_USERNAME = "tests.test_identity.nickname_username"
    for name, nickname in (("vic1", "Vic"), ("vic2", "vic")):
        django_user_model.objects.create_user(name, password="pw", first_name=nickname)
    login(client, "vic1", "pw")
    client.get(VERIFY)
    client.post(VERIFY, {"token": wrong_code(simulator, "Vic")})
    login(client, "vic2", "pw")
    client.get(VERIFY)
    response = client.post(VERIFY, {"token": wrong_code(simulator, "vic")})
    assert response.status_code == 429
    # One counter and one budget row, under the folded key; Single Connect got each name.
    assert list(AttemptCounter.objects.values_list("username", "failures")) == [("vic", 2)]
    assert list(CodeBudget.objects.values_list("username", flat=True)) == ["vic"]
    assert simulator.current_code("Vic")
    assert simulator.current_code("vic")


def test_another_users_lockout_is_left_alone(
    client: Client, django_user_model: Any, login: Any, simulator: Any, settings: Any
) -> None:
    settings.SINGLECONNECT_MAX_ATTEMPTS = 1
    for name in ("alice", "bob"):
        django_user_model.objects.create_user(name, password="pw")
    login(client, "alice", "pw")
    client.get(VERIFY)
    assert client.post(VERIFY, {"token": wrong_code(simulator, "alice")}).status_code == 429
    bob = Client()
    login(bob, "bob", "pw")
    assert bob.get(VERIFY).status_code == 200
    response = bob.post(VERIFY, {"token": simulator.current_code("bob")})
    assert response.status_code == 302
    assert lockout.locked_until("alice") is not None
    assert lockout.locked_until("bob") is None


@pytest.mark.parametrize(
    ("name", "other"),
    [("gökhan", "gokhan"), ("\u0131\u015f\u0131k", "isik"), ("vic", "vic ")],
)
def test_names_with_other_keys_never_share_a_counter(name: str, other: str) -> None:
    # Distinct keys are distinct rows on every database: MariaDB's default collations would
    # match "gökhan" to "gokhan" (accents, dotless i) and "vic " to "vic" (trailing spaces),
    # and a right code for one name would then clear the other's lockout.
    key, other_key = counter_key(name), counter_key(other)
    assert key != other_key
    limits = lockout.Limits(max_attempts=1, lockout_seconds=900)
    lockout.record_wrong(lockout.reserve(key, limits), limits)
    assert lockout.locked_until(key) is not None
    assert lockout.locked_until(other_key) is None
    assert lockout.reserve(other_key, limits).granted
    lockout.reset(other_key)  # a right code for the other name
    assert lockout.locked_until(key) is not None
    assert not lockout.reserve(key, limits).granted
    assert sorted(AttemptCounter.objects.values_list("username", flat=True)) == sorted(
        [key, other_key]
    )
    codes = budget.Limits(per_hour=1, cooldown=0, per_login_hour=1)
    assert budget.take(key, "one", codes, first=True).granted
    assert budget.take(other_key, "two", codes, first=True).granted
    assert not budget.take(key, "three", codes, first=True).granted
    assert CodeBudget.objects.count() == 2
