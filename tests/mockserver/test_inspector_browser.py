"""The inspector in a real browser: Debian's headless Chromium, driven by Selenium.

The mock runs as a live server on a free loopback port with a frozen clock, so only the page's
own "Advance" buttons move time. Screenshots land in ``artifacts/inspector-*.png``.
Chromium and chromedriver come from ``scripts/install-system-deps.sh``; where they are missing
these tests are skipped, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from mockserver import create_app
from mockserver.web.inspector import DEFAULT_INSPECTOR_API_KEY

from ..conftest import require_binary, served_on_loopback

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
WAIT_SECONDS = 10
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


def chromium_binaries() -> tuple[str, str]:
    """Debian's chromium and chromedriver, or a skip (a failure under CI)."""
    browser = require_binary("chromium", "chromium-browser", package="chromium")
    return browser, require_binary("chromedriver", package="chromium-driver")


@pytest.fixture(scope="module")
def live_app() -> Flask:
    return create_app(
        {
            "TIME_SCALE": 0,
            "START_TIME": "2026-01-15T10:30:00Z",
            "VALIDATE_RESPONSES": "raise",
            "SIGNING_SECRET": "browser-test-secret",
        }
    )


@pytest.fixture(scope="module")
def live_server(live_app: Flask) -> Iterator[str]:
    """The mock on a free loopback port, served from a thread for the module."""
    with served_on_loopback(live_app) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, quit whatever happens."""
    binary, driver_path = chromium_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="inspector-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(WAIT_SECONDS)
        driver.set_script_timeout(WAIT_SECONDS)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def inspector(browser: WebDriver, live_server: str) -> WebDriver:
    """The overview page of an empty mock, its clock back where it started."""
    requests.post(f"{live_server}/_mock/reset", timeout=5).raise_for_status()
    browser.get(f"{live_server}/_mock/")
    wait_for(browser, lambda b: "No reports yet" in b.find_element(By.ID, "reports-body").text)
    browser.get_log("browser")  # start each test with an empty console
    return browser


def wait_for(browser: WebDriver, condition: Callable[[WebDriver], Any]) -> Any:
    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.1).until(condition)


def screenshot(browser: WebDriver, name: str) -> Path:
    """Save ``artifacts/inspector-<name>.png`` once every progress bar has stopped moving."""
    settled = "return document.getAnimations().every(a => a.playState !== 'running')"
    wait_for(browser, lambda b: b.execute_script(settled))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"inspector-{name}.png"
    browser.save_screenshot(str(path))
    return path


def create_from_page(
    browser: WebDriver, case_id: str, *, scenario: str = "happy", demo: bool = True
) -> WebElement:
    """Fill in and submit the create form; the new report's row once it is listed."""
    case_field = browser.find_element(By.ID, "case-id")
    case_field.clear()
    case_field.send_keys(case_id)
    Select(browser.find_element(By.ID, "scenario")).select_by_value(scenario)
    demo_box = browser.find_element(By.ID, "demo-data")
    if demo_box.is_selected() != demo:
        demo_box.click()
    browser.find_element(By.ID, "create-button").click()
    return wait_for(browser, lambda b: row_of_case(b, case_id))


def row_of_case(browser: WebDriver, case_id: str) -> WebElement | None:
    for row in browser.find_elements(By.CSS_SELECTOR, "#reports-body tr[data-report-id]"):
        if row.find_element(By.CLASS_NAME, "case-id").text == case_id:
            return row
    return None


def badge(row: WebElement) -> str:
    text: str = row.find_element(By.CLASS_NAME, "badge").text
    return text


def advance_from_page(browser: WebDriver, label: str) -> None:
    browser.find_element(
        By.XPATH, f"//button[@data-advance and normalize-space()='{label}']"
    ).click()


def test_a_report_created_from_the_page_is_listed_as_pending(inspector: WebDriver) -> None:
    row = create_from_page(inspector, "case_browser_create")
    assert badge(row) == "pending"


def test_the_list_shows_time_left_on_the_virtual_clock(inspector: WebDriver) -> None:
    row = create_from_page(inspector, "case_browser_time")
    advance_from_page(inspector, "+10 s")
    wait_for(inspector, lambda _: row.find_element(By.CLASS_NAME, "time-left").text == "45 s")


def test_advancing_the_clock_from_the_page_completes_a_demo_report(
    inspector: WebDriver,
) -> None:
    row = create_from_page(inspector, "case_browser_clock")
    advance_from_page(inspector, "+1 min")
    wait_for(inspector, lambda _: badge(row) == "completed")
    screenshot(inspector, "list")
    assert row.find_element(By.CLASS_NAME, "time-left").text == "done"


def test_the_cancel_button_cancels_a_running_report(inspector: WebDriver) -> None:
    row = create_from_page(inspector, "case_browser_cancel", demo=False)
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait_for(inspector, lambda _: badge(row) == "cancelled")


def test_the_report_page_renders_every_section_and_a_chart(
    inspector: WebDriver, live_server: str
) -> None:
    row = create_from_page(inspector, "case_browser_report")
    report_id = row.get_attribute("data-report-id")
    advance_from_page(inspector, "+1 min")
    wait_for(inspector, lambda _: badge(row) == "completed")
    row.find_element(By.CLASS_NAME, "report-id").click()
    wait_for(inspector, lambda b: b.find_elements(By.CSS_SELECTOR, ".report-section h2"))
    wire = requests.get(
        f"{live_server}/api/reports/{report_id}",
        headers={"X-API-Key": DEFAULT_INSPECTOR_API_KEY},
        timeout=5,
    ).json()["data"]
    titles = [h2.text for h2 in inspector.find_elements(By.CSS_SELECTOR, ".report-section h2")]
    charts = inspector.find_elements(By.CSS_SELECTOR, "svg.chart")
    inspector.execute_script("arguments[0].scrollIntoView({block: 'center'})", charts[0])
    screenshot(inspector, "report-chart")
    inspector.execute_script("window.scrollTo(0, 0)")
    screenshot(inspector, "report")
    assert titles == [section["title"] for section in wire["output"]["report"]["sections"]]
    assert charts[0].is_displayed() and charts[0].size["height"] > 100


def test_a_running_report_page_follows_the_report_to_completion(
    inspector: WebDriver, live_server: str
) -> None:
    row = create_from_page(inspector, "case_browser_follow")
    inspector.get(f"{live_server}/_mock/reports/{row.get_attribute('data-report-id')}")
    advance_from_page(inspector, "+1 min")
    wait_for(inspector, lambda b: b.find_elements(By.ID, "download-pdf"))
    assert inspector.find_element(By.ID, "report-status").text == "completed"


def test_the_pages_log_no_errors_to_the_console(inspector: WebDriver) -> None:
    row = create_from_page(inspector, "case_browser_console")
    advance_from_page(inspector, "+1 min")
    wait_for(inspector, lambda _: badge(row) == "completed")
    row.find_element(By.CLASS_NAME, "report-id").click()
    wait_for(inspector, lambda b: b.find_elements(By.ID, "report-status"))
    errors = [entry for entry in inspector.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
