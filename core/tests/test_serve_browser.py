"""``headwater serve`` in headless Chromium: connect GitHub (its emulator), sync, query.

Uses Debian's ``chromium`` and ``chromium-driver`` packages (``.ci/run`` installs them) through
selenium. Without a browser the test is skipped, except in CI (``CI`` set), where a missing
browser is a failure: the page's end-to-end test must run there.

Screenshots go to ``<pytest tmp dir>/screenshots`` (the path is printed) and are copied to
``/tmp/headwater-screens`` for a reviewer.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_support import every_field_registry, serve_github

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENS_COPY = Path("/tmp/headwater-screens")
TOKEN = "ghp_contractToken0001"
WRONG = "ghp_wrongWrongWrong99"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)
SYNCED = ("issues", "stargazers")


def _unavailable() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing (apt-get install {package})"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI, but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (StaleElementReferenceException, NoSuchElementException, ValueError):
            value = None  # the live table was redrawn, or the page reloaded, meanwhile
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _screens(tmp_path: Path) -> Path:
    screens = tmp_path / "screenshots"
    screens.mkdir(exist_ok=True)
    print(f"screenshots: {screens} (copied to {SCREENS_COPY})")
    return screens


def _copy_screens(screens: Path) -> None:
    SCREENS_COPY.mkdir(parents=True, exist_ok=True)
    for picture in screens.glob("*.png"):
        shutil.copy2(picture, SCREENS_COPY / picture.name)


def test_a_form_of_every_field_kind_in_a_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    screens = _screens(tmp_path)

    def find(css: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, css)

    def problems(path: str) -> str:
        return str(find(f'ul.problems[data-for="{path}"]').text)

    try:
        registry = every_field_registry(tmp_path / "site")
        with serve_github(tmp_path, registry=registry) as page:
            browser.set_window_size(1280, 1900)  # the whole form in one picture
            browser.get(page.url + "/connect/every_field")
            assert find("#source\\.api_key").get_attribute("type") == "password"
            assert find("#source\\.page_size").get_attribute("value") == "50"
            assert find("#source\\.service_account").get_attribute("type") == "file"
            # An option's sub-fields show when it is chosen; a switch opens its group.
            assert find("#source\\.auth\\.key").is_displayed()
            assert not find("#source\\.auth\\.user").is_displayed()
            Select(find("#source\\.auth\\.selection")).select_by_value("basic")
            _wait(lambda: find("#source\\.auth\\.user").is_displayed(), "the user field")
            assert not find("#source\\.auth\\.key").is_displayed()
            assert not find("#source\\.proxy\\.url").is_displayed()
            find("#source\\.proxy").click()
            _wait(lambda: find("#source\\.proxy\\.url").is_displayed(), "the proxy group")
            browser.save_screenshot(str(screens / "08-every-field-form.png"))

            # Check with mistakes: each message under its field, with the CLI's path.
            find("#source\\.page_size").clear()
            find("#source\\.page_size").send_keys("500")
            find("#source\\.proxy\\.url").send_keys("not a url")
            find("#check").click()
            _wait(lambda: problems("$.source.account"), "the problems")
            assert problems("$.source.account") == "must not be empty @ $.source.account"
            assert problems("$.source.page_size") == "must be at most 100 @ $.source.page_size"
            assert "@ $.source.proxy.url" in problems("$.source.proxy.url")
            assert "@ $.source.auth.user" in problems("$.source.auth.user")
            assert problems("$.source.region") == ""
            browser.save_screenshot(str(screens / "09-every-field-problems.png"))
    finally:
        _copy_screens(screens)


def test_connect_github_sync_and_query_in_a_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By

    screens = _screens(tmp_path)

    def shot(name: str) -> None:
        browser.save_screenshot(str(screens / f"{name}.png"))

    def find(css: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, css)

    try:
        with serve_github(tmp_path, delay=0.03) as page:
            # The catalog: GitHub's card, with its status and a way in.
            browser.get(page.url + "/")
            card = find('[data-connector="github"]')
            assert "GitHub" in card.text
            assert "alpha" in card.text
            shot("01-catalog")
            card.find_element(By.LINK_TEXT, "Connect").click()

            # A wrong token: Check shows the connector's message, and the form keeps its values.
            _wait(lambda: browser.find_elements(By.ID, "source.repository"), "the form")
            find("#source\\.repository").send_keys("octo-org/octo-repo")
            find("#source\\.token").send_keys(WRONG)
            find("#check").click()
            result = find("#check-result")
            _wait(lambda: "bad" in result.get_attribute("class") and result.text, "the rejection")
            rejection = result.text
            assert rejection
            assert "Checking" not in rejection
            assert WRONG not in browser.page_source
            shot("02-wrong-token")

            # Fixed: Check passes, Save writes the config and leads to the tables.
            token = find("#source\\.token")
            token.clear()
            token.send_keys(TOKEN)
            find("#check").click()
            _wait(lambda: "good" in find("#check-result").get_attribute("class"), "the check")
            shot("03-token-ok")
            find("#save").click()
            _wait(lambda: browser.find_elements(By.ID, "schemas"), "the tables page")

            # Choose two tables.
            for box in browser.find_elements(By.CSS_SELECTOR, '#schemas input[type="checkbox"]'):
                wanted = any(box.get_attribute("name") == f"schemas.{n}.enabled" for n in SYNCED)
                if box.is_selected() != wanted:
                    box.click()
            shot("04-choose-tables")
            find("#save-tables").click()

            # Sync: progress per table while it runs, then the summary.
            _wait(lambda: browser.find_elements(By.ID, "sync"), "the connection page")
            find("#sync").click()
            _wait(lambda: browser.find_elements(By.ID, "progress"), "the run page")
            _wait(
                lambda: any(
                    int(cell.text or 0) > 0
                    for cell in browser.find_elements(By.CSS_SELECTOR, "#progress td:nth-child(4)")
                ),
                "rows read to show while the sync runs",
            )
            shot("05-sync-running")
            _wait(lambda: browser.find_elements(By.ID, "summary"), "the summary", timeout=120)
            # The finished page is drawn by the server and no longer changes.
            assert find("#run-status").text == "succeeded"
            statuses = [
                c.text for c in browser.find_elements(By.CSS_SELECTOR, "#progress td:nth-child(2)")
            ]
            assert statuses == ["done", "done"]
            assert "2 of 2 tables synced" in find("#summary").text
            shot("06-sync-done")

            # The tables, and a query over one of them.
            browser.find_element(By.LINK_TEXT, "Tables").click()
            listing = _wait(lambda: browser.find_elements(By.ID, "tables"), "the tables list")[0]
            assert "github.issues" in listing.text
            sql = find("#sql")
            sql.clear()
            sql.send_keys(
                "select state, count(*) as issues from github.issues group by state order by state"
            )
            find("#run-query").click()
            result_table = _wait(
                lambda: browser.find_elements(By.ID, "query-result"), "the result"
            )[0]
            assert "state" in result_table.text
            assert "open" in result_table.text
            shot("07-query")
            assert TOKEN not in browser.page_source
    finally:
        _copy_screens(screens)
