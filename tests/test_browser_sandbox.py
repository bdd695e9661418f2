"""The sandbox page in headless Chromium, as a person uses it: create a job, watch it run, pause, cancel.

Runs Debian's Chromium (`/usr/bin/chromium`, installed by `scripts/test.sh` / `.ci/run`) through
Playwright; no browser is downloaded. Screenshots go to `test-artifacts/`: `sandbox.png` (a running job,
the README's picture is a copy) and `sandbox-end.png` (how the page looked when the test ended).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from bot.sandbox.command import Sandbox, start_sandbox
from bot.sandbox.emulator.control import EmulatorControl

CHROMIUM = Path("/usr/bin/chromium")
# What Chromium needs on this kind of machine: root, no GPU, no network beyond loopback.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
WAIT_MS = 20_000
CREATE = "/finetune create model=gpt-4o-mini-2024-07-18 training_file=file-train-demo suffix=demo"


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; missing is a failure, not a skip (CI installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: the browser test needs Debian's chromium package "
            "(sh scripts/install-chromium.sh as root, or apt-get install chromium chromium-driver)"
        )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def sandbox(clean_env: pytest.MonkeyPatch) -> AsyncIterator[Sandbox]:
    # Speed 1 and a fast watcher: the test moves the emulator's clock itself, so nothing races it.
    running = await start_sandbox(port=0, speed=1.0, use_real_api=False, poll_interval=0.3, seed=0)
    try:
        yield running
    finally:
        await running.stop(grace=5)


def _card(page: Page, job_id: str) -> Locator:
    return page.locator('#message-list .message[data-kind="message"]').filter(
        has=page.locator(f'button[data-value="{job_id}"]')
    )


async def test_create_watch_pause_and_cancel_a_job_in_the_browser(browser: Browser, sandbox: Sandbox) -> None:
    assert sandbox.emulator is not None
    control = EmulatorControl(sandbox.emulator.url)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await page.goto(sandbox.page_url)
        await expect(page.locator("#connection-status")).to_have_attribute(
            "data-state", "live", timeout=WAIT_MS
        )

        # Type the command the way a person would, and send it with Enter.
        await page.locator("#composer-input").fill(CREATE)
        await page.locator("#composer-input").press("Enter")
        first_card = page.locator('#message-list .message[data-kind="message"]').first
        await expect(first_card).to_contain_text("ftjob-", timeout=WAIT_MS)
        job_id = await first_card.locator('button[data-action-id="job_refresh"]').get_attribute("data-value")
        assert job_id and job_id.startswith("ftjob-")
        card = _card(page, job_id)
        await expect(card.get_by_role("button", name="Cancel", exact=True)).to_be_visible()
        await expect(card.get_by_role("button", name="Pause", exact=True)).to_have_count(0)

        # The job leaves validation and the queue; the card follows by itself, no reload.
        await control.advance(45)
        await expect(card).to_contain_text(re.compile("running", re.IGNORECASE), timeout=WAIT_MS)
        pause = card.get_by_role("button", name="Pause", exact=True)
        await expect(pause).to_be_visible(timeout=WAIT_MS)
        # Training goes on: the card shows how far it got.
        await control.advance(300)
        await expect(card).to_contain_text(re.compile(r"step \d+/\d+"), timeout=WAIT_MS)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "sandbox.png"))

        await pause.click()
        await expect(card.get_by_role("button", name="Resume", exact=True)).to_be_visible(timeout=WAIT_MS)
        await expect(card.get_by_role("button", name="Pause", exact=True)).to_have_count(0)
        await expect(card).to_contain_text(re.compile("paus", re.IGNORECASE))

        # Cancel asks first; confirming cancels the job and the card says so, with no buttons but Refresh.
        await card.get_by_role("button", name="Cancel", exact=True).click()
        dialog = page.locator("#confirm-dialog")
        await expect(dialog).to_be_visible(timeout=WAIT_MS)
        await page.locator("#confirm-ok").click()
        await expect(dialog).to_be_hidden(timeout=WAIT_MS)
        await expect(card).to_contain_text(re.compile("cancel", re.IGNORECASE), timeout=WAIT_MS)
        await expect(card.get_by_role("button", name="Cancel", exact=True)).to_have_count(0, timeout=WAIT_MS)
        await expect(card.get_by_role("button", name="Resume", exact=True)).to_have_count(0)
        await expect(card.get_by_role("button", name="Refresh", exact=True)).to_be_visible()

        status = (await sandbox.runtime.services.api.retrieve_job(job_id)).status
        assert status == "cancelled"
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "sandbox-end.png"))
        await page.close()
        await control.aclose()


async def test_the_home_tab_in_the_browser_shows_my_job_with_its_buttons(
    browser: Browser, sandbox: Sandbox
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        await page.goto(sandbox.page_url)
        await expect(page.locator("#connection-status")).to_have_attribute(
            "data-state", "live", timeout=WAIT_MS
        )
        # Nothing started yet: the Home tab says how to start.
        await page.locator("#home-link").click()
        home = page.locator("#home-tab")
        await expect(home).to_contain_text("Start one with", timeout=WAIT_MS)
        await expect(page.locator("#composer")).to_be_hidden()

        # Back in the channel, start a job; the Home tab shows it with the buttons this person may use.
        await page.locator('.channel[data-channel-id="C_ML"]').click()
        await page.locator("#composer-input").fill(CREATE)
        await page.locator("#composer-input").press("Enter")
        first_card = page.locator('#message-list .message[data-kind="message"]').first
        await expect(first_card).to_contain_text("ftjob-", timeout=WAIT_MS)
        await page.locator("#home-link").click()
        await expect(home).to_contain_text("In progress", timeout=WAIT_MS)
        await expect(home.get_by_role("button", name="Cancel", exact=True)).to_be_visible()
        refresh = home.get_by_role("button", name="Refresh", exact=True)
        await expect(refresh).to_be_visible()
        await refresh.click()
        await expect(home).to_contain_text("ftjob-", timeout=WAIT_MS)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "sandbox-home.png"))
    finally:
        await page.close()
