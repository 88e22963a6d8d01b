"""
Remembered browsers: the checkbox, the cookie and what it is bound to (the user, the
password, the Single Connect username, the server's row), its revocation and its expiry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from django_singleconnect.models import RememberedBrowser, VerificationEvent
from django_singleconnect.remember import COOKIE_PREFIX
from django_singleconnect.state import VERIFIED_KEY
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

VERIFY = "/2fa/verify/"


@pytest.fixture
def remember_on(settings: Any) -> None:
    settings.SINGLECONNECT_REMEMBER_DAYS = 30


@pytest.fixture
def bob(django_user_model: Any) -> User:
    return django_user_model.objects.create_user("bob", password=PASSWORD)  # type: ignore[no-any-return]


def sign_in(client: Client, login: Any, name: str = "alice") -> None:
    client.cookies.pop("sessionid", None)
    login(client, name)


def type_code(client: Client, simulator: Any, name: str = "alice", remember: bool = True) -> Any:
    page = client.get(VERIFY, {"next": "/"})
    assert page.status_code == 200
    data = {"token": simulator.current_code(name), "next": "/"}
    if remember:
        data["remember"] = "on"
    response = client.post(VERIFY, data)
    assert response["Location"] == "/"
    return response


def skips_the_code(client: Client, simulator: Any) -> bool:
    """Whether this (signed-in) browser gets in without a code being sent."""
    calls = simulator.call_count("otpstatus")
    response = client.get(VERIFY, {"next": "/"})
    skipped = response.status_code == 302 and response["Location"] == "/"
    assert skipped == (simulator.call_count("otpstatus") == calls)
    return skipped


def test_off_by_default(client: Client, user: User, login: Any, simulator: Any) -> None:
    login(client)
    assert "remember" not in client.get(VERIFY).content.decode()
    type_code(client, simulator)  # the box, posted anyway, is ignored
    assert not RememberedBrowser.objects.exists()
    assert not [name for name in client.cookies if name.startswith(COOKIE_PREFIX)]


def test_a_remembered_browser_skips_the_code(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any
) -> None:
    login(client)
    assert "Remember this browser for 30 days" in client.get(VERIFY).content.decode()
    response = type_code(client, simulator)
    cookie = response.cookies[f"{COOKIE_PREFIX}{user.pk}"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/2fa/"
    assert cookie["max-age"] == 30 * 86400
    assert cookie["secure"] == ""  # HTTP here; HTTPS sets it
    browser = RememberedBrowser.objects.get()
    assert browser.user == user
    assert cookie.value.count(":") >= 2  # signed, and the row keeps only the secret's hash
    assert browser.secret_digest not in cookie.value

    sign_in(client, login)
    assert skips_the_code(client, simulator)
    assert client.session[VERIFIED_KEY]["method"] == "remembered"
    assert client.get("/").content == b"protected page"
    assert list(VerificationEvent.objects.values_list("event", flat=True).order_by("pk"))[-1] == (
        "remembered"
    )


def test_a_secure_request_sets_a_secure_cookie(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any, settings: Any
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    login(client)
    client.get(VERIFY, {"next": "/"}, HTTP_X_FORWARDED_PROTO="https")
    response = client.post(
        VERIFY,
        {"token": simulator.current_code("alice"), "next": "/", "remember": "on"},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.cookies[f"{COOKIE_PREFIX}{user.pk}"]["secure"] is True


def test_users_on_one_browser_keep_their_own(
    remember_on: None, client: Client, user: User, bob: User, login: Any, simulator: Any
) -> None:
    login(client)
    type_code(client, simulator)
    # Bob on the same browser: alice's cookie does not let him in ...
    sign_in(client, login, "bob")
    assert not skips_the_code(client, simulator)
    type_code(client, simulator, "bob")
    # ... and neither loses theirs, both ways.
    sign_in(client, login, "alice")
    assert skips_the_code(client, simulator)
    sign_in(client, login, "bob")
    assert skips_the_code(client, simulator)


def test_a_cookie_copied_to_another_user_is_worth_nothing(
    remember_on: None, client: Client, user: User, bob: User, login: Any, simulator: Any
) -> None:
    login(client)
    type_code(client, simulator)
    value = client.cookies[f"{COOKIE_PREFIX}{user.pk}"].value
    other = Client()
    other.cookies[f"{COOKIE_PREFIX}{bob.pk}"] = value
    login(other, "bob")
    assert not skips_the_code(other, simulator)


def test_a_tampered_cookie_is_ignored(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any
) -> None:
    login(client)
    type_code(client, simulator)
    name = f"{COOKIE_PREFIX}{user.pk}"
    value = client.cookies[name].value
    client.cookies[name] = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    sign_in(client, login)
    assert not skips_the_code(client, simulator)


def test_a_password_change_ends_it(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any
) -> None:
    login(client)
    type_code(client, simulator)
    user.set_password("a new password")
    user.save()
    sign_in(client, lambda c, name: login(c, name, "a new password"))
    assert not skips_the_code(client, simulator)


def test_an_expired_row_ends_it(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any
) -> None:
    login(client)
    type_code(client, simulator)
    RememberedBrowser.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    sign_in(client, login)
    assert not skips_the_code(client, simulator)


def test_another_single_connect_username_ends_it(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any, settings: Any
) -> None:
    login(client)
    type_code(client, simulator)
    settings.SINGLECONNECT_USERNAME = "tests.test_remember.other_name"
    sign_in(client, login)
    assert not skips_the_code(client, simulator)


def other_name(user: Any) -> str:
    return f"other-{user.get_username()}"


def test_the_user_lists_and_forgets_their_browsers(
    remember_on: None, client: Client, user: User, bob: User, login: Any, simulator: Any
) -> None:
    login(client)
    type_code(client, simulator)
    elsewhere = Client(HTTP_USER_AGENT="Firefox on the office PC")
    login(elsewhere)
    type_code(elsewhere, simulator)
    bobs = Client()
    login(bobs, "bob")
    type_code(bobs, simulator, "bob")

    page = client.get("/2fa/browsers/").content.decode()
    assert page.count("Forget this one") == 2  # hers, not bob's
    assert "Firefox on the office PC" in page
    office = RememberedBrowser.objects.get(label="Firefox on the office PC")
    assert client.post("/2fa/browsers/", {"forget": str(office.pk)}).status_code == 302
    sign_in(elsewhere, login)
    assert not skips_the_code(elsewhere, simulator)
    # Another user's browser cannot be forgotten by its number.
    bobs_browser = RememberedBrowser.objects.get(user=bob)
    client.post("/2fa/browsers/", {"forget": str(bobs_browser.pk)})
    assert RememberedBrowser.objects.filter(pk=bobs_browser.pk).exists()

    response = client.post("/2fa/browsers/", {"forget": "all"})
    assert response.cookies[f"{COOKIE_PREFIX}{user.pk}"].value == ""
    assert not RememberedBrowser.objects.filter(user=user).exists()
    assert VerificationEvent.objects.filter(event="browser_forgotten").count() == 2


def test_the_page_needs_a_verified_session(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any
) -> None:
    login(client)
    assert client.get("/2fa/browsers/")["Location"].startswith("/2fa/verify/")


def test_a_lockout_forgets_every_browser_of_the_username(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any, settings: Any
) -> None:
    login(client)
    type_code(client, simulator)
    settings.SINGLECONNECT_MAX_ATTEMPTS = 2
    attacker = Client()
    login(attacker)
    attacker.get(VERIFY)
    for _ in range(2):
        attacker.post(VERIFY, {"token": "000000"})
    assert not RememberedBrowser.objects.exists()
    locked = VerificationEvent.objects.get(event="locked_out")
    assert locked.detail == "1 remembered browsers forgotten"


def test_staff_are_not_remembered_unless_a_setting_says_so(
    remember_on: None, client: Client, staff: User, login: Any, simulator: Any, settings: Any
) -> None:
    login(client, "root")
    assert "Remember this browser" not in client.get(VERIFY).content.decode()
    type_code(client, simulator, "root")
    assert not RememberedBrowser.objects.exists()
    settings.SINGLECONNECT_REMEMBER_STAFF = True
    sign_in(client, login, "root")
    type_code(client, simulator, "root")
    sign_in(client, login, "root")
    assert skips_the_code(client, simulator)


def test_a_secret_key_rotation_keeps_browsers(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any, settings: Any
) -> None:
    login(client)
    type_code(client, simulator)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-for-this-test-only-0123456789"
    sign_in(client, login)
    assert skips_the_code(client, simulator)


def test_a_remembered_browser_is_verified_not_fresh(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any
) -> None:
    login(client)
    type_code(client, simulator)
    sign_in(client, login)
    assert skips_the_code(client, simulator)
    response = client.get("/fresh/")
    assert response["Location"] == "/2fa/verify/?next=%2Ffresh%2F&max_age=300"
    calls = simulator.call_count("otpstatus")
    assert "Confirm it is you" in client.get(response["Location"]).content.decode()
    assert simulator.call_count("otpstatus") == calls + 1


def test_staff_forget_browsers_in_the_admin(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any
) -> None:
    from tests.test_admin import verify_session

    login(client)
    type_code(client, simulator)
    browser = RememberedBrowser.objects.get()
    admin = Client()
    verify_session(admin, User.objects.create_superuser("boss", password=PASSWORD))
    url = "/admin/django_singleconnect/rememberedbrowser/"
    assert "alice" in admin.get(url).content.decode()
    assert admin.post(f"{url}{browser.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not RememberedBrowser.objects.exists()
    forgotten = VerificationEvent.objects.get(event="browser_forgotten")
    assert forgotten.user.get_username() == "boss"
    sign_in(client, login)
    assert not skips_the_code(client, simulator)


def shared_name(user: Any) -> str:
    return "shared"


def test_the_row_belongs_to_one_user_even_with_a_shared_name_and_password_hash(
    remember_on: None,
    client: Client,
    user: User,
    bob: User,
    login: Any,
    simulator: Any,
    settings: Any,
) -> None:
    # Only the user binding tells these two apart: the same Single Connect name (a mapping
    # that should never do this) and the same password hash.
    settings.SINGLECONNECT_USERNAME = "tests.test_remember.shared_name"
    User.objects.filter(pk=bob.pk).update(password=user.password)
    login(client)
    type_code(client, simulator, "shared")
    other = Client()
    other.cookies[f"{COOKIE_PREFIX}{bob.pk}"] = client.cookies[f"{COOKIE_PREFIX}{user.pk}"].value
    login(other, "bob")
    assert not skips_the_code(other, simulator)


@pytest.mark.parametrize("change", ["off", "staff"])
def test_turning_the_setting_off_ends_remembered_browsers(
    remember_on: None,
    client: Client,
    staff: User,
    login: Any,
    simulator: Any,
    settings: Any,
    change: str,
) -> None:
    settings.SINGLECONNECT_REMEMBER_STAFF = True
    login(client, "root")
    type_code(client, simulator, "root")
    if change == "off":
        settings.SINGLECONNECT_REMEMBER_DAYS = 0
    else:
        settings.SINGLECONNECT_REMEMBER_STAFF = False
    sign_in(client, login, "root")
    assert not skips_the_code(client, simulator)


@pytest.mark.parametrize("odd", ["²", "9" * 30, "-1", "", "x"])
def test_an_odd_browser_number_forgets_nothing(
    remember_on: None, client: Client, user: User, login: Any, simulator: Any, odd: str
) -> None:
    login(client)
    type_code(client, simulator)
    assert client.post("/2fa/browsers/", {"forget": odd}).status_code == 302
    assert RememberedBrowser.objects.count() == 1
