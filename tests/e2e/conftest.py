"""Browser tests: Playwright's sync API driving the distro's headless Chromium.

Nothing is downloaded: the tests use /usr/bin/chromium (Debian's package, installed by CI)
and skip with a clear reason where it is missing. Pages are served by pytest-django's
``live_server``, which runs in another thread, so these tests use a transactional
database (``live_server`` implies it) and the cast's fixtures commit for real.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told this is deliberate (it is: the loop only drives
# the browser, the ORM calls are ordinary synchronous test code).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(django_db_setup, live_server, browser):
    # Session fixtures are torn down in reverse order of setup: the browser closes first (its
    # kept-alive connections end the live server's request threads, which close their
    # database connections), then the live server stops, then the test database is dropped.
    # A Chinese Windows desktop browser sends zh-CN; the portal must answer in Chinese.
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    directory = Path(os.environ.get("SCREENSHOT_DIR") or PROJECT_ROOT / "var" / "screenshots")
    if not directory.is_absolute():
        directory = PROJECT_ROOT / directory
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def shoot(page, screenshot_dir):
    """Save a full-page screenshot named ``<name>.png``; returns its path."""

    def _shoot(name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shoot

