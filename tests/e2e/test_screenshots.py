"""
The pictures of the docs: the code page, a wrong code, the lockout, the 503 page, the phone
layout and the admin's settings page, each taken as a person reaches it.

Each test saves its pictures as PNG files: into ``$SINGLECONNECT_SCREENSHOTS`` when it is set
(``make screenshots`` sets it to ``docs/images``; a relative folder is taken from the
checkout), else into a temporary folder, so that the suite checks them in every run.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.support import (
    MAX_ATTEMPTS,
    PASSWORD,
    PICTURE_USERS,
    SUPERUSER,
    Site,
    import_playwright,
    wrong_code,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

# Skips this module when there is no browser (fails the run with SINGLECONNECT_REQUIRE_BROWSER=1).
expect = import_playwright().expect

SCREENSHOTS = "SINGLECONNECT_SCREENSHOTS"
DESKTOP_USER, PHONE_USER, UNAVAILABLE_USER = PICTURE_USERS
DESKTOP = {"width": 960, "height": 600}
#: A common phone's CSS pixels (iPhone 12 to 15), at its pixel ratio.
PHONE = {"width": 390, "height": 844}
PHONE_SCALE = 2
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pictures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pictures go: ``$SINGLECONNECT_SCREENSHOTS``, or a folder of this run."""
    chosen = os.environ.get(SCREENSHOTS, "").strip()
    if not chosen:
        return tmp_path_factory.mktemp("screenshots")
    folder = Path(chosen)
    if not folder.is_absolute():
        folder = request.config.rootpath / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def png_size(path: Path) -> tuple[int, int]:
    """A PNG file's width and height, from its header."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def picture(page: Page, folder: Path, name: str, scale: int = 1) -> Path:
    """Save what the window shows as ``folder/name.png``, and check the file."""
    path = folder / f"{name}.png"
    page.screenshot(path=path, animations="disabled", caret="hide")
    viewport = page.viewport_size
    assert viewport is not None
    assert png_size(path) == (viewport["width"] * scale, viewport["height"] * scale)
    return path


def sign_in(page: Page, username: str) -> None:
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")


def type_code(page: Page, code: str) -> None:
    page.locator("input[name=token]").fill(code)
    page.locator("input[name=token]").press("Enter")


def is_verify_post(response: Response) -> bool:
    return response.request.method == "POST" and "/2fa/verify/" in response.url


def test_the_code_page_a_wrong_code_the_lockout_and_the_503_page(
    page: Page, site: Site, pictures: Path
) -> None:
    page.set_viewport_size(DESKTOP)
    # Single Connect down when the code is to be sent: the 503 page, for a user of its own
    # (the failed call counts against that user's codes, as every call does).
    site.fault("error", endpoint="otpstatus")
    page.goto("/")
    with page.expect_response(lambda response: "/2fa/verify/" in response.url) as answer:
        sign_in(page, UNAVAILABLE_USER)
    assert answer.value.status == 503
    expect(page.locator("input[name=token]")).to_have_count(0)
    picture(page, pictures, "unavailable")
    site.fault("none")
    page.get_by_role("button", name=re.compile("sign out", re.IGNORECASE)).click()

    # The code page, as a user first meets it.
    page.goto("/")
    sign_in(page, DESKTOP_USER)
    expect(page.locator("input[name=token]")).to_be_visible()
    picture(page, pictures, "code-page")

    wrong = wrong_code(site.code(DESKTOP_USER))
    type_code(page, wrong)
    expect(page.locator("#token-errors")).to_contain_text(f"{MAX_ATTEMPTS - 1} attempts left")
    picture(page, pictures, "wrong-code")

    for _ in range(MAX_ATTEMPTS - 2):
        type_code(page, wrong)
        expect(page.locator("#token-errors")).to_be_visible()
    with page.expect_response(is_verify_post) as answer:
        type_code(page, wrong)
    assert answer.value.status == 429
    expect(page.locator("input[name=token]")).to_have_count(0)
    picture(page, pictures, "lockout")


def test_the_phone_layout(new_page: Callable[..., Page], site: Site, pictures: Path) -> None:
    page = new_page(
        locale="en-US",
        viewport=PHONE,
        device_scale_factor=PHONE_SCALE,
        is_mobile=True,
        has_touch=True,
    )
    page.goto("/")
    sign_in(page, PHONE_USER)
    token = page.locator("input[name=token]")
    expect(token).to_be_visible()
    # The form above the fold, and nothing wider than the phone.
    expect(token).to_be_in_viewport()
    expect(page.locator("form button[type=submit]").first).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    picture(page, pictures, "phone", scale=PHONE_SCALE)


def test_the_admin_settings_page(page: Page, site: Site, pictures: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/django_singleconnect/singleconnectconfiguration/")
    sign_in(page, SUPERUSER)
    type_code(page, site.code(SUPERUSER))

    # Straight to the one row's form, which says what each empty field falls back to.
    expect(page).to_have_url(
        f"{site.url}/admin/django_singleconnect/singleconnectconfiguration/1/change/"
    )
    expect(page.locator("#id_max_attempts_helptext")).to_contain_text(
        f"Empty: {MAX_ATTEMPTS}, from SINGLECONNECT_MAX_ATTEMPTS in settings.py."
    )
    expect(page.locator("input[name=_addanother]")).to_have_count(0)
    picture(page, pictures, "admin-settings")
