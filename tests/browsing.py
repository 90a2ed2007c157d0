"""Real headless Chromium for the staff pages' tests: the browser (a fixture in conftest.py) and how a
person opens a context of their own and logs in."""

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"


def launch_browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: the browser test must run in CI")
        pytest.skip(f"{CHROMIUM} not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def person(browser: Browser, server, viewport_width: int = 1280) -> BrowserContext:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=server.url, locale="zh-CN", viewport={"width": viewport_width, "height": 900}
    )
    context.set_default_timeout(15_000)
    return context


def log_in(context: BrowserContext, username: str) -> Page:
    page = context.new_page()
    page.goto("/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_have_text(username)
    return page
