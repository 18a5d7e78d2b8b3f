"""The web console in a real browser (Debian's chromium, headless, through chromedriver) against
a real server: sign in, find a published service, call it through the try-it form, follow a
version's lineage, an Owner adds a Reader who then sees no Users page and no delete control.
Screenshots of the pages are kept (the folder is printed; $O16N_CONSOLE_SCREENSHOTS chooses it:
scripts/console-screenshots takes the README's this way)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.harness import ADMIN_PASSWORD, Server, unique_name
from tests.services.publishing import (
    execute,
    open_session,
    params,
    published,
    service_name,
    take_snapshot,
)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)
READER_PASSWORD = "Reader-Pass-1234"
NEW_READER_PASSWORD = "Reader-Pass-5678"
SCREENSHOTS_ENV = "O16N_CONSOLE_SCREENSHOTS"
SPECIES = "species = ['setosa', 'versicolor', 'virginica'][petal_class]"
WAIT_SECONDS = 15


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """Where the screenshots go (kept after the run): $O16N_CONSOLE_SCREENSHOTS or a new folder."""
    chosen = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="o16n-console-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"console screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """One headless chromium for the module, with a profile of its own."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("the console tests need Debian's chromium and chromium-driver")
    profile = tempfile.mkdtemp(prefix="o16n-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=ChromeService(CHROMEDRIVER))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def service(server: Server) -> Iterator[str]:
    """A published service that names a species; deleted afterwards."""
    name = service_name("Species")
    with server.client(server.token()) as client:
        published(
            client,
            name,
            "v1",
            SPECIES,
            description="Names the species of a petal class",
            inputParameterDefinitions=params(petal_class="integer"),
            outputParameterDefinitions=params(species="character"),
        )
        yield name
        client.delete(f"/services/{name}/v1")


@pytest.fixture(scope="module")
def reader(server: Server) -> str:
    """A Reader's username."""
    name = unique_name("console-reader")
    added = server.cli("users", "add", name, "--role", "Reader", "--password", READER_PASSWORD)
    assert added.returncode == 0, added.stderr
    return name


def wait_for(driver: WebDriver, css: str) -> WebElement:
    """The element once it is shown."""
    located = expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css))
    element: WebElement = WebDriverWait(driver, WAIT_SECONDS).until(located)
    return element


def wait_until(driver: WebDriver, check: Callable[[WebDriver], object]) -> None:
    """Wait until `check` answers something true (a page re-shown meanwhile: it tries again)."""
    wait = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=[StaleElementReferenceException])
    wait.until(check)


def sign_in(driver: WebDriver, server: Server, username: str, password: str) -> None:
    """Open the console signed out and sign in through its form."""
    signed_out(driver, server)
    wait_for(driver, "#username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    wait_until(driver, lambda d: d.find_element(By.ID, "who").text == username)
    wait_until(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Services")
    wait_for(driver, "table")


def signed_out(driver: WebDriver, server: Server) -> None:
    """The console freshly loaded without a token (on its sign-in page)."""
    driver.get(server.url + "/#/login")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()


def open_version(driver: WebDriver, name: str) -> None:
    """Follow the service's link in the services list to its version page."""
    wait_for(driver, f"a[href='#/services/{name}/v1']").click()
    wait_for(driver, "#try-form")


def test_the_page_is_public_and_strict(server: Server) -> None:
    page = httpx.get(server.url + "/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    script = httpx.get(server.url + "/console/app.js", timeout=10)
    assert script.status_code == 200
    assert "content-security-policy" in script.headers


def test_sign_in_find_the_service_and_call_it(
    browser: WebDriver, server: Server, service: str, screenshots: Path
) -> None:
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    browser.save_screenshot(str(screenshots / "services.png"))
    open_version(browser, service)
    assert "Names the species of a petal class" in browser.find_element(By.ID, "main").text
    assert browser.find_elements(By.ID, "delete-version"), "an Owner may delete"
    browser.find_element(By.ID, "input-petal_class").send_keys("1")
    browser.find_element(By.CSS_SELECTOR, "#try-form button[type=submit]").click()
    outputs = wait_for(browser, "#try-outputs")
    assert '"species": "versicolor"' in outputs.text
    curl = browser.find_element(By.ID, "snippet-curl").text
    assert f"/api/{service}/v1" in curl and "Authorization: Bearer" in curl
    browser.execute_script("arguments[0].scrollIntoView({block: 'end'})", outputs)
    browser.save_screenshot(str(screenshots / "version.png"))


def test_start_a_batch_and_watch_it_finish(
    browser: WebDriver, server: Server, service: str, screenshots: Path
) -> None:
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    open_version(browser, service)
    records = '[{"petal_class": 0}, {"petal_class": 2}, {"petal_class": 1}]'
    browser.find_element(By.ID, "batch-records").send_keys(records)
    browser.find_element(By.CSS_SELECTOR, "#batch-form button[type=submit]").click()
    wait_until(browser, lambda d: "Complete" in d.find_element(By.ID, "batches").text)
    assert "3/3" in browser.find_element(By.ID, "batches").text
    browser.save_screenshot(str(screenshots / "batch.png"))


def test_close_a_session_and_delete_a_snapshot(
    browser: WebDriver, server: Server, screenshots: Path
) -> None:
    with server.client(server.token()) as client:
        session = open_session(client, "console session")
        snapshot = take_snapshot(client, session, "console snapshot")
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    browser.get(server.url + "/#/sessions")
    wait_for(browser, "button[aria-label='Close session console session']")
    browser.save_screenshot(str(screenshots / "sessions.png"))
    browser.find_element(
        By.CSS_SELECTOR, "button[aria-label='Close session console session']"
    ).click()
    wait_until(browser, lambda d: "console session" not in d.find_element(By.ID, "main").text)
    with server.client(server.token()) as client:
        stuck = open_session(client, "stuck session")
    browser.refresh()  # the same page, loaded again: it lists the new session
    wait_for(browser, "button[aria-label='Kill session stuck session']").click()
    browser.switch_to.alert.accept()
    wait_until(browser, lambda d: "stuck session" not in d.find_element(By.ID, "main").text)
    browser.get(server.url + "/#/snapshots")
    wait_for(browser, f"button[aria-label='Download snapshot {snapshot}']").click()
    wait_until(browser, lambda d: d.find_elements(By.ID, "download-link"))
    link = browser.find_element(By.ID, "download-link")
    assert link.get_attribute("download") == "console snapshot.zip"
    assert str(link.get_attribute("href")).startswith("blob:")
    delete = wait_for(browser, f"button[aria-label='Delete snapshot {snapshot}']")
    browser.save_screenshot(str(screenshots / "snapshots.png"))
    delete.click()
    browser.switch_to.alert.accept()
    wait_until(browser, lambda d: snapshot not in d.find_element(By.ID, "main").text)
    with server.client(server.token()) as client:
        assert client.get(f"/snapshots/{snapshot}").status_code == 404
        open_ids = {item["id"] for item in client.get("/sessions").json()}
        assert session not in open_ids and stuck not in open_ids


def test_the_console_fits_a_phone(browser: WebDriver, server: Server, screenshots: Path) -> None:
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    browser.set_window_size(390, 844)
    try:
        for page, shown in (("services", "table"), ("users", "#add-user-form")):
            browser.get(f"{server.url}/#/{page}")
            wait_for(browser, shown)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth > window.innerWidth"
            )
            assert not overflow, f"the {page} page scrolls sideways on a phone"
            browser.save_screenshot(str(screenshots / f"{page}-phone.png"))
    finally:
        browser.set_window_size(1280, 900)


def test_a_version_links_its_snapshot_and_session(
    browser: WebDriver, server: Server, screenshots: Path
) -> None:
    name = service_name("Lineage")
    with server.client(server.token()) as client:
        session = open_session(client, "lineage session")
        execute(client, session, "offset = 10")
        snapshot = take_snapshot(client, session, "lineage snapshot")
        published(
            client,
            name,
            "v1",
            "y = x + offset",
            snapshotId=snapshot,
            description="Adds the snapshot's offset",
            inputParameterDefinitions=params(x="integer"),
            outputParameterDefinitions=params(y="integer"),
        )
        try:
            sign_in(browser, server, "admin", ADMIN_PASSWORD)
            open_version(browser, name)
            link = browser.find_element(By.ID, "lineage-snapshots")
            assert link.text == snapshot
            assert browser.find_element(By.ID, "lineage-sessions").text == session
            browser.execute_script("window.scrollTo(0, 0)")
            browser.save_screenshot(str(screenshots / "version-lineage.png"))
            link.click()
            selected = wait_for(browser, "tr.selected")
            assert snapshot in selected.text and "lineage snapshot" in selected.text
            browser.back()
            wait_for(browser, "#lineage-sessions").click()
            assert "lineage session" in wait_for(browser, "tr.selected").text
            client.delete(f"/sessions/{session}")
            browser.refresh()  # the session is closed now: the page says so
            assert "not open any more" in wait_for(browser, "#lineage-missing").text
        finally:
            client.delete(f"/services/{name}/v1")
            client.delete(f"/snapshots/{snapshot}")


def users_link_answered(driver: WebDriver) -> WebElement:
    """The nav's Users link once the server has answered whether this user may see it."""
    wait_until(driver, lambda d: d.find_element(By.ID, "users-link").get_attribute("data-answered"))
    return driver.find_element(By.ID, "users-link")


def test_an_owner_adds_a_reader_who_sees_no_users_page(
    browser: WebDriver, server: Server, service: str, screenshots: Path
) -> None:
    name = unique_name("added-reader")
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    users_link_answered(browser).click()
    wait_until(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Users")
    username = browser.find_element(By.ID, "new-username")
    username.send_keys(name)
    browser.find_element(By.ID, "new-user-password").send_keys(READER_PASSWORD)
    Select(browser.find_element(By.ID, "new-role")).select_by_visible_text("Reader")
    browser.find_element(By.ID, "new-user-password").submit()  # Enter: the keyboard suffices
    role = Select(wait_for(browser, f"select[aria-label='Role of {name}']"))
    assert role.first_selected_option.text == "Reader"
    own = Select(browser.find_element(By.CSS_SELECTOR, "select[aria-label='Role of admin']"))
    own.select_by_visible_text("Reader")  # an Owner may not demote themself: the server says
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Set role of admin']").click()
    assert "your own account" in wait_for(browser, "#users-message [role=alert]").text
    assert own.first_selected_option.text == "Owner"
    browser.save_screenshot(str(screenshots / "users.png"))
    browser.find_element(By.CSS_SELECTOR, f"button[aria-label='Reset password of {name}']").click()
    wait_for(browser, "#new-password").send_keys(NEW_READER_PASSWORD + Keys.ENTER)
    wait_until(browser, lambda d: not d.find_elements(By.ID, "password-form"))

    sign_in(browser, server, name, NEW_READER_PASSWORD)
    assert not users_link_answered(browser).is_displayed()
    open_version(browser, service)
    assert not browser.find_elements(By.ID, "delete-version")
    assert not browser.find_elements(By.CSS_SELECTOR, "#main button.danger")
    browser.get(server.url + "/#/users")  # typed in: the server refuses, the page says so
    assert "may not manage users" in wait_for(browser, "#main [role=alert]").text

    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    users_link_answered(browser).click()
    wait_for(browser, f"button[aria-label='Delete user {name}']").click()
    browser.switch_to.alert.accept()
    wait_until(browser, lambda d: name not in d.find_element(By.ID, "main").text)
    refused = httpx.post(
        server.url + "/login", json={"username": name, "password": NEW_READER_PASSWORD}, timeout=30
    )
    assert refused.status_code == 401


def test_a_reader_sees_no_delete_control(
    browser: WebDriver, server: Server, service: str, reader: str, screenshots: Path
) -> None:
    sign_in(browser, server, reader, READER_PASSWORD)
    assert browser.find_element(By.ID, "who").text == reader
    open_version(browser, service)
    assert browser.find_element(By.ID, "try-form")
    assert not browser.find_elements(By.ID, "delete-version")
    assert not browser.find_elements(By.CSS_SELECTOR, "#main button.danger")
    browser.save_screenshot(str(screenshots / "reader-version.png"))


def test_a_wrong_password_is_refused_on_the_page(browser: WebDriver, server: Server) -> None:
    signed_out(browser, server)
    wait_for(browser, "#username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    alert = wait_for(browser, "[role=alert]")
    assert "invalid username or password" in alert.text
    assert browser.execute_script("return sessionStorage.getItem('o16n.token')") is None
