"""The local console in a real browser (Debian's headless chromium, driven by Selenium; nothing downloaded)."""

from __future__ import annotations

import shutil

import pytest
from botocore.credentials import Credentials

from rekoflow.api_client import ApiClient
from support.images import GIF_BYTES, image_bytes

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
VISITED_FILL = "#b7e1cd"
FAILED_FILL = "#f8b4b4"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("chromium and chromium-driver are not installed: `make install` installs them (apt)")
    options = webdriver.ChromeOptions()
    # The flags keep chromium from reaching for the network (closed here) at start.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1600",
    ):
        options.add_argument(flag)
    options.binary_location = chromium
    session = webdriver.Chrome(
        service=Service(driver), options=options
    )  # an explicit driver: Selenium Manager never downloads
    session.set_page_load_timeout(60)
    yield session
    session.quit()


def wait(browser, condition, timeout=90):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(condition)


def by_id(browser, name):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, name)


def open_console(browser, workflow):
    browser.get(workflow.status["consoleUrl"])
    wait(browser, lambda b: b.find_element("tag name", "body").get_attribute("data-ready") == "true")


def test_the_console_uploads_analyses_and_shows_results_boxes_and_the_path(browser, workflow, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes(320, 240, color=(20, 120, 220)))
    open_console(browser, workflow)
    by_id(browser, "image-file").send_keys(str(photo))
    by_id(browser, "analyse-button").click()
    wait(
        browser,
        lambda b: "SUCCEEDED" in by_id(b, "progress").text or by_id(b, "progress").get_attribute("class") == "error",
    )
    assert "SUCCEEDED" in by_id(browser, "progress").text, by_id(browser, "progress").text
    request_id = by_id(browser, "progress").text.split()[1].rstrip(":")
    # The record it shows is the one the workflow stored, and the upload went through the presigned POST.
    record = workflow.get_record(request_id)
    assert (
        record["status"] == "SUCCEEDED"
        and record["image"]["key"].startswith("uploads/")
        and record["image"]["key"].endswith("/photo.png")
    )
    wait(browser, lambda b: by_id(b, "image-canvas").get_attribute("data-drawn") == record["image"]["key"])
    tables = by_id(browser, "tables").text
    assert "Labels (2)" in tables and "Cat" in tables and "Faces (1)" in tables and "HELLO WORLD" in tables
    assert int(by_id(browser, "image-canvas").get_attribute("data-boxes")) == 3  # the cat, the face, the text line
    assert "billable call" in by_id(browser, "detail-cost").text
    svg = by_id(browser, "graph").get_attribute("innerHTML")
    assert "<svg" in svg and VISITED_FILL in svg and FAILED_FILL not in svg
    events = by_id(browser, "events").text
    assert "ExecutionStarted" in events and "ExecutionSucceeded" in events and "Detect labels" in events
    assert request_id in by_id(browser, "executions").text


def test_the_console_lists_recent_executions_and_opens_a_failed_one(browser, workflow):
    api = ApiClient(workflow.status["apiUrl"], region="us-east-1", credentials=Credentials("testing", "testing"))
    image = workflow.put_bytes(GIF_BYTES, "console/not-an-image.png")
    assert api.start_analysis({"requestId": "console-bad-1", "image": image, "analyses": ["labels"]}).status == 202
    assert api.wait("console-bad-1", interval_s=0.2)["status"] == "FAILED"
    open_console(browser, workflow)
    rows = browser.find_elements("css selector", "#executions tbody tr")
    names = [row.find_element("css selector", "td").text for row in rows]
    assert "console-bad-1" in names
    rows[names.index("console-bad-1")].click()
    wait(browser, lambda b: by_id(b, "detail-title").text.endswith("console-bad-1"))
    status = by_id(browser, "detail-status").text
    assert (
        status.startswith("FAILED") and "ImageValidationError" in status and "not a PNG or JPEG image (GIF)" in status
    )
    svg = by_id(browser, "graph").get_attribute("innerHTML")
    assert FAILED_FILL in svg  # the failed state drawn red
