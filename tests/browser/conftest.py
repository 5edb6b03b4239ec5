"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live server.

Each test gets a fresh browser context that records console errors and CSP violations; a test fails if
any appear. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.batch.conftest import rq_queue, workers  # noqa: F401 - fixtures shared with the engine tests

CHROMIUM = "/usr/bin/chromium"
FORM_ERROR_LOG = re.compile(r"status of 422\b")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still
# synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Violations are kept on the page and echoed to the console, so they count even after a navigation.
CSP_HOOK = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  var where = e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber;
  var el = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 120) : '';
  window.__csp.push(where);
  console.warn('CSP ' + where + ' ' + el);
});
"""


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI (install the Debian chromium package)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Problems(list):
    pass


@pytest.fixture
def page(chromium, live_server) -> Iterator[object]:
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_HOOK)
    tab = context.new_page()
    problems = Problems()

    def on_console(msg) -> None:
        where = (msg.location or {}).get("url", "")
        if msg.type == "warning" and msg.text.startswith("CSP"):
            problems.append(msg.text)
        # Every console error counts (a missing favicon too), except the 422 of a refused form: htmx
        # swaps that answer in on purpose (form errors), and Chromium logs any 4xx it loads.
        if msg.type == "error" and not FORM_ERROR_LOG.search(msg.text):
            problems.append(f"console: {msg.text[:160]} at {where}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    tab.problems = problems
    yield tab
    try:
        violations = tab.evaluate("window.__csp || []")
    except Exception:  # noqa: BLE001 - the page may be gone; console errors still count
        violations = []
    context.close()
    assert not violations, f"CSP violations: {violations}"
    assert not problems, f"browser errors: {problems}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page, username: str, password: str = "hockeyhub") -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/workouts/**")
