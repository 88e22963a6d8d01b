"""
Fixtures for the browser tests: the simulator and the example site, plain and under a strict
Content Security Policy, for the whole session, Chromium for this package of tests, a fresh
browser context for each test; when a test fails, its pages kept under ``reports/e2e/``; and,
when the browser tests were skipped, a note at the end of the run saying why and what to do.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import django
import pytest

from django_singleconnect.simulator import Simulator
from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REQUIRE_BROWSER,
    SKIPPED_BROWSER_TESTS,
    Site,
    browser_problem,
    log_tail,
    prepare_database,
    site_environment,
    start_gunicorn,
    stop_process_group,
    wait_until_serving,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Actions and navigations give up after this long; the site answers in milliseconds.
TIMEOUT_MS = 10_000

PAGES = pytest.StashKey[list["Page"]]()


@pytest.fixture(scope="session")
def site_simulator() -> Iterator[Simulator]:
    """The Single Connect simulator the site asks, in a thread of this process."""
    with Simulator(output=io.StringIO()) as simulator:
        yield simulator


@pytest.fixture(scope="session")
def site(site_simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The example project served by gunicorn (two workers), asking the simulator."""
    yield from _serve(site_simulator, tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session", params=["django-csp", "Django's middleware"])
def strict_site(
    request: pytest.FixtureRequest,
    site_simulator: Simulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    """
    The example project, with a database of its own, under ``default-src 'self'``: sent by
    django-csp (what a site on Django 5.2 uses), or by Django's own middleware (6.0 and later).
    """
    by_django = request.param == "Django's middleware"
    if by_django and django.VERSION < (6, 0):
        pytest.skip(f"Django {django.get_version()} has no CSP middleware (6.0 brings it)")
    yield from _serve(
        site_simulator,
        tmp_path_factory.mktemp("strict-site"),
        DJANGO_SETTINGS_MODULE="tests.e2e.strict_csp",
        STRICT_CSP_BY="django" if by_django else "django-csp",
    )


def _serve(simulator: Simulator, directory: Path, **variables: str) -> Iterator[Site]:
    env = {**site_environment(directory, simulator.django_settings()), **variables}
    prepare_database(env)
    log = directory / "gunicorn.log"
    process, url = start_gunicorn(env, log)
    try:
        wait_until_serving(process, url, log)
        yield Site(url=url, simulator_url=simulator.url, log=log)
    finally:
        stop_process_group(process)


@pytest.fixture(autouse=True)
def _no_fault_left(site_simulator: Simulator) -> Iterator[None]:
    """A scenario that makes the simulator fail never leaves it failing for the next one."""
    yield
    site_simulator.set_fault(None)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package, not session, scope: while Playwright runs, its event loop counts as running in
    # this thread, and Django refuses database work there (SynchronousOnlyOperation). It must
    # be gone before the rest of the suite, and pytest-django's teardown, run.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(
    browser: Browser, site: Site, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (its own cookies); options as for new_context."""
    contexts = []
    pages = request.node.stash.setdefault(PAGES, [])

    def new_page(**options: Any) -> Page:
        context = browser.new_context(base_url=site.url, **options)
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        pages.append(page)
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in a fresh English browser context."""
    return new_page(locale="en-US")


# -- evidence of failures ----------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each page of a failed test as reports/e2e/<test>.png and .html; drop stale ones."""
    report = yield
    if report.when != "call":
        return report
    folder = item.config.rootpath / "reports" / "e2e"
    name = re.sub(r"[^\w.-]", "_", item.name)
    for stale in folder.glob(f"{name}.*"):
        stale.unlink()
    if report.failed:
        pages = item.stash.get(PAGES, [])
        saved = [
            _keep(page, folder, name if n == 0 else f"{name}.page{n + 1}")
            for n, page in enumerate(pages)
        ]
        report.sections.append(("browser pages", "\n".join(saved) or "(no page was opened)"))
        for name in ("site", "strict_site"):
            site = item.funcargs.get(name)
            if isinstance(site, Site):
                report.sections.append((f"gunicorn log ({site.log})", log_tail(site.log)))
    return report


def _keep(page: Page, folder: Path, stem: str) -> str:
    from playwright.sync_api import Error

    folder.mkdir(parents=True, exist_ok=True)
    screenshot, html = folder / f"{stem}.png", folder / f"{stem}.html"
    try:
        page.screenshot(path=screenshot, full_page=True)
        html.write_text(page.content(), encoding="utf-8")
    except Error as error:  # a closed or crashed page
        return f"{page.url}: not kept ({error.message})"
    return f"{page.url}: {screenshot}, {html}"


# -- the note when there is no browser ---------------------------------------------------------


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """
    Say it plainly when the browser tests did not run: a line among the skips is easy to miss,
    and without ``-rs`` pytest shows only their number.
    """
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if SKIPPED_BROWSER_TESTS in _skip_reason(report)
    ]
    problem = browser_problem()
    if not skipped or problem is None:
        return
    terminalreporter.write_sep("-", "browser tests not run", yellow=True)
    terminalreporter.write_line(f"The browser tests in tests/e2e/ were skipped: {problem}.")
    terminalreporter.write_line(
        f"They drive the system's Chromium at {CHROMIUM} through Playwright, never a "
        f"downloaded browser. With {REQUIRE_BROWSER}=1 (as in .ci/run), this is a failure."
    )


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # (path, line, "Skipped: reason")
        return str(longrepr[2])
    return str(longrepr)
