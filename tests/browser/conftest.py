"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against pytest-django's live server.

Each test gets a fresh browser context that records console errors and CSP violations; a test fails if
any appear. axe-core (axe-playwright-python) checks every page of ours the test visits (not the Django
admin or the RQ dashboard, see AXE_SKIP_PATHS): after each `page.goto`,
and at the end on the page shown then and on every other page the test reached by a click or a redirect
(opened again with a GET); any violation fails the test, listed by rule, impact and element. Screenshots
go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.batch.conftest import rq_queue, workers  # noqa: F401 - fixtures shared with the engine tests

AXE_REVISITS = 12  # pages reached by clicks, opened again at the end of a test (bounds its time)
# Not checked: Django's admin and django-rq's dashboard (staff tools; their markup is the packages':
# unlabelled action checkboxes, a login page without <h1>). Our own admin CSS still underlines links.
AXE_SKIP_PATHS = ("/admin/",)

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
    audit = Accessibility(tab, live_server.url)
    tab.on("framenavigated", lambda frame: audit.visited(frame) if frame == tab.main_frame else None)
    goto = tab.goto

    def goto_and_check(url: str, **kwargs):
        response = goto(url, **kwargs)
        audit.check()
        return response

    tab.goto = goto_and_check
    tab.axe = audit
    yield tab
    try:
        violations = tab.evaluate("window.__csp || []")
    except Exception:  # noqa: BLE001 - the page may be gone; console errors still count
        violations = []
    seen = list(problems)  # what opening pages again for axe logs is not the test's
    audit.finish(goto)
    context.close()
    assert not violations, f"CSP violations: {violations}"
    assert not seen, f"browser errors: {seen}"
    assert not audit.violations, "axe-core found accessibility violations:\n" + "\n".join(audit.violations)


class Accessibility:
    """axe-core on the pages a test visits: what it found, by page."""

    def __init__(self, tab, base_url: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe, self.tab, self.base = Axe(), tab, base_url
        self.checked: set[tuple[str, int]] = set()  # (path, viewport width)
        self.pending: dict[str, None] = {}  # pages reached without page.goto, not checked yet
        self.violations: list[str] = []

    @staticmethod
    def _path(url: str) -> str:
        return url.split("#", 1)[0]

    def visited(self, frame) -> None:
        url = self._path(frame.url)
        if url.startswith(self.base):
            self.pending.setdefault(url, None)

    def check(self) -> None:
        """Run axe on the page as it is now (once per page and viewport width)."""
        url = self._path(self.tab.url)
        if not url.startswith(self.base) or url.endswith((".json", ".csv")):
            return
        if url[len(self.base) :].startswith(AXE_SKIP_PATHS):
            return
        width = (self.tab.viewport_size or {}).get("width", 0)
        self.pending.pop(url, None)
        if (url, width) in self.checked:
            return
        self.checked.add((url, width))
        try:
            self.tab.wait_for_load_state("load")
            self._settle()
            # No CSSOM preload: it injects <style> elements, which the app's CSP refuses (and reports).
            results = self.axe.run(self.tab, options={"resultTypes": ["violations"], "preload": False})
        except Exception as exc:  # noqa: BLE001 - a page that navigated away mid-run is checked later
            if "navigat" in str(exc) or "destroyed" in str(exc):
                self.checked.discard((url, width))
                self.pending.setdefault(url, None)
                return
            raise
        for v in results.response.get("violations", []):
            nodes = "; ".join(
                " ".join(n.get("target", [])) + " " + (n.get("html") or "")[:100]
                for n in v.get("nodes", [])[:5]
            )
            self.violations.append(f"{url} @{width}px: {v['id']} ({v.get('impact')}): {v['help']} — {nodes}")

    def _settle(self) -> None:
        """Wait (briefly) for htmx to be idle: a region dims to 60 % while its request is in flight, and
        axe would judge the contrast of that passing state, not of the page a user reads."""
        try:
            self.tab.wait_for_function("!document.querySelector('.htmx-request')", timeout=5_000)
        except Exception:  # noqa: BLE001 - a page that polls without a pause is checked as it is
            pass

    def finish(self, goto) -> None:
        """Check the page shown now, then the pages reached by clicks or redirects, opened again."""
        try:
            self.check()
        except Exception:  # noqa: BLE001 - the page may be gone; the revisits still count
            pass
        for url in list(self.pending)[:AXE_REVISITS]:
            try:
                response = goto(url)
            except Exception:  # noqa: BLE001 - a page that cannot be opened again (a one-off link)
                continue
            if response is not None and response.ok:
                self.check()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page, username: str, password: str = "hockeyhub") -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/workouts/**")
