"""The web dashboard in a real browser (Debian's Chromium driven by Playwright) against a real server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server import Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[object]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is installed by `make install-dev`"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        yield pg
        browser.close()


@pytest.mark.slow
def test_dashboard_makes_a_video_and_shows_twins(server: Server, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/")
    assert "/dashboard/" in page.url
    page.fill("#api-key", server.key)
    page.click("#key-form button")
    page.wait_for_selector("#v-avatar option[value=look_demo_astronaut]", state="attached")
    page.select_option("#v-voice", "en_US-joe-medium")
    page.fill("#v-script", "Hello from the dashboard.")
    page.select_option("#v-resolution", "720p")

    def made(title: str) -> tuple[Any, str | None]:
        """Submit the form under ``title``; the video's list item once completed, and its src."""
        page.fill("#v-title", title)
        page.click("#video-form button[type=submit]")
        item = page.locator(".item", has_text=title)
        item.locator(".badge.completed").wait_for(timeout=120_000)
        return item, item.locator("video").get_attribute("src")

    _, src = made("dashboard-test")
    assert src and "/files/videos/" in src and "sig=" in src
    # WebM: the format asked for is the one served, and the browser decodes it
    page.select_option("#v-format", "webm")
    webm, src = made("dashboard-webm")
    assert src and src.split("?")[0].endswith(".webm")
    webm.locator("video").evaluate("v => { v.muted = true; v.preload = 'auto'; v.load(); }")
    page.wait_for_function(
        "v => v.readyState >= 2 && v.videoWidth === 1280",
        arg=webm.locator("video").element_handle(),
        timeout=20_000,
    )
    page.select_option("#v-format", "mp4")
    # a bad request shows the API's message, not a crash
    page.fill("#v-script", " ")
    page.click("#video-form button[type=submit]")
    # The toast may still show the previous "queued" message: wait for the error's own text.
    toast = page.locator("#toast:not([hidden])", has_text="script")
    toast.wait_for(timeout=10_000)
    assert "queued" not in toast.inner_text()
    page.click("#tabs button[data-tab=twins]")
    look = page.locator("#look-list .item", has_text="Demo: Astronaut")
    look.locator(".badge.completed").wait_for(timeout=10_000)
    assert "Quality" in look.inner_text()
    # A phone's HEIC photo, picked in the twin form, becomes a photo twin.
    from PIL import Image
    from pillow_heif import register_heif_opener

    from twinstudio.twins.demo import demo_source

    register_heif_opener()
    heic = tmp_path / "IMG_0042.HEIC"
    with Image.open(demo_source()) as img:
        img.convert("RGB").save(heic, format="HEIF", quality=90)
    page.fill("#t-name", "Phone photo")
    page.set_input_files("#t-file", str(heic))
    page.click("#twin-form button[type=submit]")
    mine = page.locator("#look-list .item", has_text="Phone photo")
    mine.locator(".badge.completed, .badge.pending_consent").wait_for(timeout=120_000)
    assert "photo" in mine.locator(".muted").first.inner_text()
    page.click("#tabs button[data-tab=voices]")
    page.wait_for_selector("#voice-table tbody tr")
    assert "en_US-joe-medium" in page.inner_text("#voice-table")
