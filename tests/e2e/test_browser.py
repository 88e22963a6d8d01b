"""
The code step as a person meets it: Chromium against the example project under gunicorn,
with the Single Connect simulator behind it. Each scenario signs in as its own user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from tests.e2e.support import (
    MAX_ATTEMPTS,
    PASSWORD,
    REMEMBER_DAYS,
    RESEND_COOLDOWN,
    Site,
    import_playwright,
    turkish,
    wrong_code,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Response

# Skips this module when there is no browser (fails the run with SINGLECONNECT_REQUIRE_BROWSER=1).
expect = import_playwright().expect

HELLO = "Hello {}, you passed the Single Connect step."


def log_in(page: Page, username: str) -> None:
    """Fill in the password form on the current page (the site's or the admin's) and send it."""
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")


def code_page(page: Page, site: Site, next_url: str = "/") -> None:
    """Wait for the code page asking for the code before going to ``next_url``."""
    expect(page).to_have_url(f"{site.url}/2fa/verify/?next={quote(next_url, safe='')}")
    expect(page.locator("input[name=token]")).to_be_visible()


def send_code(page: Page, code: str, button: str = "Verify") -> None:
    page.locator("input[name=token]").fill(code)
    page.get_by_role("button", name=button, exact=True).click()


def verify_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/2fa/verify/")


def test_the_right_code_opens_the_protected_page(page: Page, site: Site) -> None:
    page.goto("/")
    expect(page).to_have_url(f"{site.url}/accounts/login/?next=/")
    log_in(page, "alice")

    code_page(page, site)
    expect(page.get_by_role("heading")).to_have_text("Enter your sign-in code")
    expect(page.locator("form.account")).to_have_text(
        re.compile(r"^\s*Signed in as alice\.\s+Not you\?\s+Sign out\s*$")
    )
    send_code(page, site.code("alice"))

    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("alice"))


def test_a_wrong_code_says_how_many_attempts_are_left(page: Page, site: Site) -> None:
    page.goto("/")
    log_in(page, "bob")
    code_page(page, site)

    send_code(page, wrong_code(site.code("bob")))

    errors = page.locator("#token-errors")
    expect(errors).to_have_text(f"That code is incorrect. {MAX_ATTEMPTS - 1} attempts left.")
    expect(page.locator("input[name=token]")).to_have_value("")
    # The form still takes the right code.
    send_code(page, site.code("bob"))
    expect(page).to_have_url(f"{site.url}/")


def test_a_code_pasted_with_a_space_or_a_dash(page: Page, site: Site) -> None:
    page.goto("/")
    log_in(page, "gina")
    code_page(page, site)
    field = page.locator("input[name=token]")

    # Chromium compiles the pattern with the v flag; one it cannot compile it ignores, and
    # then nothing ever mismatches.
    for typed, mismatch in (("385 189", False), ("385-189", False), ("38a189", True)):
        field.fill("")
        page.keyboard.insert_text(typed)  # as a paste arrives: maxlength applies
        expect(field).to_have_value(typed)
        assert field.evaluate("(input) => input.validity.patternMismatch") is mismatch
    code = site.code("gina")
    field.fill("")
    page.keyboard.insert_text(f" {code[:3]} - {code[3:]} ")
    expect(field).to_have_value(f" {code[:3]} - {code[3:]} ")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page).to_have_url(f"{site.url}/")


def test_too_many_wrong_codes_lock_the_user_out(page: Page, site: Site) -> None:
    page.goto("/")
    log_in(page, "carol")
    code_page(page, site)
    wrong = wrong_code(site.code("carol"))

    for left in range(MAX_ATTEMPTS - 1, 0, -1):
        send_code(page, wrong)
        expect(page.locator("#token-errors")).to_contain_text(f"{left} attempt")
    with page.expect_response(verify_post) as answer:
        send_code(page, wrong)

    assert answer.value.status == 429
    expect(page.get_by_role("heading")).to_have_text("Too many wrong codes")
    expect(page.locator("main")).to_contain_text(
        "For your security, codes for this account are refused for now."
    )
    # When, relative and absolute with its zone.
    expect(page.locator("main")).to_contain_text(
        re.compile(r"Try again in 1 minute, after \d\d:\d\d UTC\.")
    )
    expect(page.locator("input[name=token]")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/accounts/login/")


COOLDOWN_LINE = re.compile(r"^You can ask for a new code in 0:0[1-3]\.$")


def test_a_new_code_after_the_cooldown(page: Page, site: Site) -> None:
    page.goto("/")
    log_in(page, "dave")
    code_page(page, site)
    first, issued = site.code("dave"), site.codes_issued()
    resend = page.get_by_role("button", name="Send a new code")
    wait = page.locator("#resend-wait")

    # One line counts the cooldown down, and the button waits for it.
    expect(wait).to_have_text(COOLDOWN_LINE)
    expect(resend).to_be_disabled()
    expect(wait).to_have_text("You can ask for a new code in 0:01.")
    expect(wait).to_be_hidden(timeout=RESEND_COOLDOWN * 1000 + 2000)
    expect(resend).to_be_enabled()
    assert site.codes_issued() == issued

    resend.click()
    expect(page.get_by_role("status")).to_have_text("A new code is on its way.")
    assert site.codes_issued() == issued + 1
    second = site.code("dave")
    assert second != first
    # That was the last code this login may ask for: the button is gone, the page says why.
    expect(page.get_by_role("button", name="Send a new code")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("You have asked for too many codes.")

    # The older code is refused, and the page said it would be.
    hint = page.locator("#token-hint")
    expect(hint).to_have_text("Only the newest code works: a code sent before it is refused.")
    send_code(page, first)
    expect(page.locator("#token-errors")).to_contain_text("That code is incorrect.")
    expect(hint).to_be_visible()
    send_code(page, second)
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("dave"))


def test_too_soon_without_javascript(new_page: Callable[..., Page], site: Site) -> None:
    # The page works without its script: the button stays enabled, the server says wait.
    page = new_page(locale="en-US", java_script_enabled=False)
    page.goto("/")
    log_in(page, "ivan")
    code_page(page, site)
    issued = site.codes_issued()
    resend = page.get_by_role("button", name="Send a new code")
    expect(resend).to_be_enabled()

    resend.click()
    # One message, a notice now: not a notice and a muted line.
    expect(page.get_by_text("You can ask for a new code in")).to_have_count(1)
    expect(page.get_by_role("status")).to_have_text(COOLDOWN_LINE)
    expect(page.locator("p.notice")).to_have_count(1)
    assert site.codes_issued() == issued

    send_code(page, site.code("ivan"))
    expect(page).to_have_url(f"{site.url}/")


# Click Verify, then, while the check runs, send the form again (Enter in the field would not:
# the default button is disabled); report the button and whether the second submit was sent.
SUBMIT_TWICE = """
() => new Promise((resolve) => {
  const button = document.querySelector("form[action$='/verify/'] button[type=submit]");
  button.click();
  setTimeout(() => {
    const second = new SubmitEvent("submit", {bubbles: true, cancelable: true});
    const sent = button.form.dispatchEvent(second);
    button.form.requestSubmit();  // a real one: a second POST unless it is stopped
    resolve({
      label: button.textContent,
      disabled: button.disabled,
      busy: button.getAttribute("aria-busy"),
      second: sent ? "sent" : "blocked",
    });
  }, 100);
})
"""


def test_a_slow_check_shows_it_is_busy_and_is_sent_once(page: Page, site: Site) -> None:
    page.goto("/")
    log_in(page, "jack")
    code_page(page, site)
    checks = site.calls("otpvalid")
    site.fault("latency", endpoint="otpvalid", seconds=2)

    page.locator("input[name=token]").fill(site.code("jack"))
    # In the page itself: Playwright's locators wait for the navigation the click starts.
    state = page.evaluate(SUBMIT_TWICE)
    assert state == {"label": "Checking…", "disabled": True, "busy": "true", "second": "blocked"}
    expect(page).to_have_url(f"{site.url}/", timeout=10_000)
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("jack"))
    assert site.calls("otpvalid") == checks + 1


def test_single_connect_down_then_back(page: Page, site: Site) -> None:
    site.fault("error", endpoint="otpstatus")
    page.goto("/")
    with page.expect_response(lambda response: "/2fa/verify/" in response.url) as answer:
        log_in(page, "erin")

    assert answer.value.status == 503
    expect(page.get_by_role("heading")).to_have_text("Sign-in codes are unavailable")
    expect(page.locator("main")).to_contain_text("so no sign-in code could be sent to you.")
    expect(page.locator("input[name=token]")).to_have_count(0)

    site.fault("none")
    page.get_by_role("button", name="Try again").click()
    code_page(page, site)
    expect(page.get_by_role("heading")).to_have_text("Enter your sign-in code")

    # Now the code is sent, but its check gets a 500: the page says it cost an attempt.
    site.fault("error", endpoint="otpvalid")
    with page.expect_response(verify_post) as answer:
        send_code(page, site.code("erin"))
    assert answer.value.status == 503
    expect(page.locator("main")).to_contain_text(
        "so the code you typed could not be checked. It may have reached Single Connect, so it "
        "counts as one of your attempts."
    )
    site.fault("none")
    page.get_by_role("button", name="Try again").click()
    code_page(page, site)
    send_code(page, site.code("erin"))
    expect(page).to_have_url(f"{site.url}/")


def test_a_turkish_browser_gets_the_turkish_page(new_page: Callable[..., Page], site: Site) -> None:
    # Chromium's locale is what it asks for in Accept-Language.
    page = new_page(locale="tr-TR")
    page.goto("/")
    # The example site's login page too, from its own catalogue.
    expect(page.locator("main p").first).to_have_text(
        "İki adımdan birincisi: parolanız. Ardından Single Connect size bir kod gönderir."  # noqa: RUF001
    )
    log_in(page, "ayse")
    code_page(page, site)
    expect(page.locator("html")).to_have_attribute("lang", "tr")

    strings = turkish(("Enter your sign-in code", "Verify"))
    if isinstance(strings, str):
        pytest.skip(f"the Turkish strings are not checked: {strings}")
    expect(page.get_by_role("heading")).to_have_text(strings["Enter your sign-in code"])
    send_code(page, site.code("ayse"), button=strings["Verify"])
    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "tr")


def test_the_phone_layout(new_page: Callable[..., Page], site: Site) -> None:
    # An iPhone 12 to 15's viewport, CSS pixels.
    page = new_page(locale="en-US", viewport={"width": 390, "height": 844}, has_touch=True)
    page.goto("/")
    log_in(page, "hana")
    code_page(page, site)

    card = page.locator("main").bounding_box()
    assert card is not None
    # Margins on both sides, and no band of empty screen above the card.
    assert 8 <= card["x"] <= 24
    assert 366 <= card["x"] + card["width"] <= 382
    assert card["y"] <= 24
    # The field and its button in the upper half: still visible with the keyboard up.
    verify = page.get_by_role("button", name="Verify", exact=True).bounding_box()
    assert verify is not None
    assert verify["y"] + verify["height"] <= 844 / 2
    # Every button big enough for a finger.
    for button in page.get_by_role("button").all():
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 44, button.text_content()
    assert page.evaluate("document.documentElement.scrollWidth") == 390


def test_the_admin_needs_the_code(page: Page, site: Site) -> None:
    page.goto("/admin/")
    expect(page).to_have_url(f"{site.url}/admin/login/?next=/admin/")
    log_in(page, "root")

    code_page(page, site, next_url="/admin/")
    send_code(page, site.code("root"))

    expect(page).to_have_url(f"{site.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page.get_by_role("link", name="Failed code attempts")).to_be_visible()


def log_out(page: Page) -> None:
    """Sign out from the example project's home page."""
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def remember_cookies(page: Page) -> set[tuple[str, str]]:
    """The browser's remembered-browser cookies, as (name, value) pairs."""
    return {
        (cookie["name"], cookie["value"])
        for cookie in page.context.cookies()
        if cookie["name"].startswith("singleconnect_browser")
    }


def test_a_remembered_browser_skips_the_code_for_its_user_only(page: Page, site: Site) -> None:
    page.goto("/")
    log_in(page, "grace")
    code_page(page, site)
    page.get_by_label(f"Remember this browser for {REMEMBER_DAYS} days").check()
    send_code(page, site.code("grace"))
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("grace"))
    remembered = remember_cookies(page)
    assert len(remembered) == 1
    log_out(page)

    # grace again, same browser: the password alone, and no code is even sent.
    issued = site.codes_issued()
    page.goto("/")
    log_in(page, "grace")
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("grace"))
    assert site.codes_issued() == issued
    log_out(page)

    # heidi on grace's browser: grace's cookie lets nobody else in.
    page.goto("/")
    log_in(page, "heidi")
    code_page(page, site)
    assert site.codes_issued() == issued + 1
    send_code(page, site.code("heidi"))
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("heidi"))
    log_out(page)
    # ... and heidi's visit did not cost grace her remembered browser.
    assert remembered <= remember_cookies(page)
    page.goto("/")
    log_in(page, "grace")
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("grace"))

    # Forgotten on the browsers page: the next sign-in asks for the code again.
    page.goto("/2fa/browsers/")
    expect(page.get_by_role("heading")).to_have_text("Browsers that skip the code")
    expect(page.get_by_role("row")).to_have_count(2)  # the header and this browser
    page.get_by_role("button", name="Forget all").click()
    expect(page.locator("main")).to_contain_text("No browser skips the code for you.")
    page.goto("/")
    log_out(page)
    page.goto("/")
    log_in(page, "grace")
    code_page(page, site)
    assert site.codes_issued() == issued + 2


# What Chromium refuses under the policy, as each page reports it.
LISTEN_FOR_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.effectiveDirective} refused ${event.blockedURI}`);
});
"""


def csp_violations(page: Page) -> list[str]:
    """What the current page has refused so far (reports come in tasks of their own)."""
    violations: list[str] = page.evaluate(
        "new Promise((resolve) => setTimeout(() => resolve(window.cspViolations), 50))"
    )
    return violations


def computed(element: Locator, prop: str) -> str:
    value: str = element.evaluate(f"(element) => getComputedStyle(element).{prop}")
    return value


def test_the_pages_under_a_strict_content_security_policy(page: Page, strict_site: Site) -> None:
    site = strict_site
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    # And what Chromium logs about it (not the favicon's 404).
    refused: list[str] = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )

    response = page.goto(f"{site.url}/")
    assert response is not None
    assert response.headers["content-security-policy"] == "default-src 'self'"
    expect(page).to_have_url(f"{site.url}/accounts/login/?next=/")
    # The package's look on the example site's login page, and the site's own additions.
    assert computed(page.locator("main"), "maxWidth") == "416px"
    assert computed(page.locator("input[name=password]"), "minHeight") == "44px"
    assert csp_violations(page) == []

    with page.expect_response(lambda response: "/2fa/verify/" in response.url) as answer:
        log_in(page, "frank")
    assert answer.value.headers["content-security-policy"] == "default-src 'self'"
    code_page(page, site)
    # The package's stylesheet: 26rem wide, white on grey.
    assert computed(page.locator("main"), "maxWidth") == "416px"
    assert computed(page.locator("main"), "backgroundColor") == "rgb(255, 255, 255)"
    assert computed(page.locator("body"), "backgroundColor") == "rgb(244, 245, 247)"
    assert computed(page.get_by_role("button", name="Sign out"), "color") == "rgb(31, 111, 235)"
    assert csp_violations(page) == []
    # The package's script runs under the policy: it counts the cooldown down.
    expect(page.get_by_role("button", name="Send a new code")).to_be_disabled()
    expect(page.locator("#resend-wait")).to_have_text(COOLDOWN_LINE)

    send_code(page, site.code("frank"))
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_role("heading")).to_have_text(HELLO.format("frank"))
    assert csp_violations(page) == []
    assert refused == []

    # The listener hears what the policy refuses: an inline style is one.
    page.evaluate("document.head.append(document.createElement('style'))")
    assert csp_violations(page) == ["style-src-elem refused inline"]


# Where an element's text sits in its content box: the room left of it and right of it (px).
TEXT_GAPS = """
(element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const text = range.getBoundingClientRect(), box = element.getBoundingClientRect();
  const style = getComputedStyle(element);
  return [
    text.left - box.left - parseFloat(style.paddingLeft),
    box.right - parseFloat(style.paddingRight) - text.right,
  ];
}
"""


# Where a button sits in its row (the flex box of .actions): the room left and right of it.
ROW_GAPS = """
(element) => {
  const row = element.closest(".actions").getBoundingClientRect();
  const box = element.getBoundingClientRect();
  return [box.left - row.left, row.right - box.right];
}
"""


def text_gaps(element: Locator) -> tuple[float, float]:
    left, right = element.evaluate(TEXT_GAPS)
    return left, right


def row_gaps(element: Locator) -> tuple[float, float]:
    left, right = element.evaluate(ROW_GAPS)
    return left, right


def test_an_arabic_page_reads_right_to_left(
    new_page: Callable[..., Page], strict_site: Site
) -> None:
    site = strict_site
    page = new_page(locale="ar")
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )
    page.goto(f"{site.url}/")
    log_in(page, "amal")
    code_page(page, site)

    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    heading = page.get_by_role("heading")
    expect(heading).to_have_text("أدخل رمز تسجيل الدخول")
    assert computed(page.locator("main"), "direction") == "rtl"
    # The heading's text hugs the card's right edge, with the room on its left.
    left, right = text_gaps(heading)
    assert abs(right) < 1 < 50 < left, (left, right)
    # Rows of buttons start on the right: Verify alone in its row, then "Send a new code" to
    # the right of "Sign out".
    left, right = row_gaps(page.get_by_role("button", name="تحقّق", exact=True))
    assert abs(right) < 1 < 50 < left, (left, right)
    resend = page.get_by_role("button", name="إرسال رمز جديد").bounding_box()
    sign_out = page.get_by_role("button", name="تسجيل الخروج").bounding_box()
    assert resend is not None
    assert sign_out is not None
    assert resend["x"] > sign_out["x"] + sign_out["width"]
    # Digits stay left to right: a code typed or pasted reads as it was sent.
    token = page.locator("input[name=token]")
    assert computed(token, "direction") == "ltr"
    assert csp_violations(page) == []

    # A wrong code: Arabic's dual ("two attempts"), right-aligned, under the same policy.
    send_code(page, wrong_code(site.code("amal")), button="تحقّق")
    error = page.locator("#token-errors li")
    expect(error).to_have_text("هذا الرمز غير صحيح. تبقّت لديك محاولتان.")
    left, right = text_gaps(error)
    assert abs(right) < 1 < 50 < left, (left, right)
    assert csp_violations(page) == []

    send_code(page, site.code("amal"), button="تحقّق")
    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert csp_violations(page) == []
    assert refused == []
