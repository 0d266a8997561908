"""Take docs/console.png: the local console after analysing the bundled sample photo with the real engine.

    .venv/bin/python scripts/console_screenshot.py [--out docs/console.png]

Starts a local stack in this process (a throwaway state folder), drives Debian's chromium with
Selenium (as the console's tests do), uploads src/rekoflow/data/sample_astronaut.jpg, waits for
the analysis and saves a screenshot of the page.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from rekoflow.commands.demo import sample_path
from rekoflow.local.stack import Stack, StackConfig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/console.png"))
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="rekoflow-screenshot-"))
    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1500",
    ):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        with Stack(StackConfig(state_dir=state, port=0, fsync=False)) as stack:
            browser = webdriver.Chrome(
                service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
            )
            try:
                browser.get(stack.status()["consoleUrl"])
                WebDriverWait(browser, 60).until(
                    lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"
                )
                browser.find_element(By.ID, "image-file").send_keys(str(sample_path()))
                browser.find_element(By.ID, "analyse-button").click()
                WebDriverWait(browser, 300, poll_frequency=0.5).until(
                    lambda b: (
                        b.find_element(By.ID, "image-canvas").get_attribute("data-drawn")
                        or b.find_element(By.ID, "progress").get_attribute("class") == "error"
                    )
                )
                args.out.parent.mkdir(parents=True, exist_ok=True)
                browser.save_screenshot(str(args.out))
                print(f"{args.out}: {browser.find_element(By.ID, 'progress').text}")
            finally:
                browser.quit()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
