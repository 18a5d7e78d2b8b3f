"""The console's charts, services list columns and batch results in a real browser (the
fixtures of test_console): a version page charts the calls made, the services list shows the
pool and the calls of the last minute, a finished batch shows each record's result and a
record's output file downloads."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.test_console import (  # noqa: F401 - fixtures
    browser,
    screenshots,
    sign_in,
    wait_for,
    wait_until,
)
from tests.harness import ADMIN_PASSWORD, Server
from tests.services.publishing import params, published, service_name

REPORTING = (
    "species = ['setosa', 'versicolor', 'virginica'][petal_class]\n"
    "with open('report.txt', 'w') as out:\n"
    "    out.write(species)\n"
)


@pytest.fixture(scope="module")
def reporting(server: Server) -> Iterator[str]:
    """A service that names a species and writes it to report.txt (an output file); a petal
    class past 2 fails. Five calls made, two of them failing; deleted afterwards."""
    name = service_name("Reporting")
    with server.client(server.token()) as client:
        published(
            client,
            name,
            "v1",
            REPORTING,
            inputParameterDefinitions=params(petal_class="integer"),
            outputParameterDefinitions=params(species="character"),
            outputFileNames=["report.txt"],
        )
        for petal_class in (0, 1, 2, 7, 9):
            client.post(f"/api/{name}/v1", json={"petal_class": petal_class})
        yield name
        client.delete(f"/services/{name}/v1")


def points_of(driver: WebDriver, css: str) -> int:
    """How many points the polylines and dots under `css` draw."""
    count: int = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' polyline')]"
        ".reduce((n, line) => n + line.getAttribute('points').trim().split(/\\s+/).length, 0)"
        " + document.querySelectorAll(arguments[0] + ' circle').length",
        css,
    )
    return count


def test_a_version_page_charts_the_calls_made(
    browser: WebDriver,  # noqa: F811 - the fixture
    server: Server,
    reporting: str,
    screenshots: Path,  # noqa: F811 - the fixture
) -> None:
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    browser.get(f"{server.url}/#/services/{reporting}/v1")
    summary = wait_for(browser, "#stats-summary")
    assert "5 calls, 2 errors" in summary.text
    assert points_of(browser, "#chart-traffic") > 1
    assert points_of(browser, "#chart-latency") >= 1
    title = browser.find_element(By.CSS_SELECTOR, "#chart-latency title")
    assert title.get_attribute("textContent") == "Latency"
    labelled = browser.find_element(By.ID, "chart-traffic").get_attribute("aria-labelledby")
    assert labelled == "chart-traffic-title chart-traffic-desc"
    rows = browser.find_elements(By.CSS_SELECTOR, "#stats details tbody tr")
    assert rows, "the data table has the buckets"
    browser.save_screenshot(str(screenshots / "version-charts.png"))
    with server.client(server.token()) as client:
        assert client.post(f"/api/{reporting}/v1", json={"petal_class": 1}).json()["success"]
    wait_until(  # the page refreshes itself
        browser, lambda d: "6 calls, 2 errors" in d.find_element(By.ID, "stats-summary").text
    )
    browser.set_window_size(390, 844)
    try:
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth"
        )
        assert not overflow, "the version page scrolls sideways on a phone"
        browser.save_screenshot(str(screenshots / "version-charts-phone.png"))
    finally:
        browser.set_window_size(1280, 900)


def test_the_services_list_shows_pools_and_calls_per_minute(
    browser: WebDriver,  # noqa: F811 - the fixture
    server: Server,
    reporting: str,
    screenshots: Path,  # noqa: F811 - the fixture
) -> None:
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    row = f"//tr[td/a[@href='#/services/{reporting}/v1']]"
    rate = f"{row}/td/span[@class='calls-per-minute']"
    wait_until(browser, lambda d: d.find_element(By.XPATH, rate).text.isdigit())
    assert int(browser.find_element(By.XPATH, rate).text) > 0
    pool = browser.find_element(By.XPATH, f"{row}/td/span[@class='pool']")
    wait_until(browser, lambda d: pool.text == "shared")
    with server.client(server.token()) as client:
        sized = client.post(f"/services/{reporting}/v1/pool", json={"InitialPoolSize": 1})
        assert sized.status_code == 200, sized.text
    browser.refresh()
    wait_for(browser, f"a[href='#/services/{reporting}/v1']")
    wait_until(
        browser,
        lambda d: d.find_element(By.XPATH, f"{row}/td/span[@class='pool']").text.startswith(
            "dedicated"
        ),
    )
    browser.save_screenshot(str(screenshots / "services-rates.png"))


def test_a_finished_batch_shows_each_record_and_downloads_its_file(
    browser: WebDriver,  # noqa: F811 - the fixture
    server: Server,
    reporting: str,
    screenshots: Path,  # noqa: F811 - the fixture
) -> None:
    sign_in(browser, server, "admin", ADMIN_PASSWORD)
    browser.get(f"{server.url}/#/services/{reporting}/v1")
    records = '[{"petal_class": 0}, {"petal_class": 5}, {"petal_class": 2}]'
    wait_for(browser, "#batch-records").send_keys(records)
    browser.find_element(By.CSS_SELECTOR, "#batch-form button[type=submit]").click()
    wait_until(browser, lambda d: "Complete" in d.find_element(By.ID, "batches").text)
    results = wait_for(browser, "#batch-results")
    rows = [row.text for row in results.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert len(rows) == 3, rows
    assert "Success" in rows[0] and "setosa" in rows[0] and "report.txt" in rows[0]
    assert "Failed" in rows[1] and "IndexError" in rows[1] and "report.txt" not in rows[1]
    assert "Success" in rows[2] and "virginica" in rows[2]
    browser.save_screenshot(str(screenshots / "batch-results.png"))
    downloads = Path(tempfile.mkdtemp(prefix="o16n-console-downloads-"))
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    results.find_element(
        By.CSS_SELECTOR, "button[aria-label='Download report.txt of record 2']"
    ).click()
    wait_until(browser, lambda d: d.find_elements(By.ID, "download-link"))
    link = browser.find_element(By.ID, "download-link")
    assert link.get_attribute("download") == "report.txt"
    saved = downloads / "report.txt"
    wait_until(browser, lambda d: saved.exists() and saved.read_text() == "virginica")
    shutil.rmtree(downloads, ignore_errors=True)


def test_a_running_batch_can_be_cancelled(
    browser: WebDriver,  # noqa: F811 - the fixture
    server: Server,
) -> None:
    name = service_name("Slow")
    with server.client(server.token()) as client:
        published(
            client,
            name,
            "v1",
            "import time\ntime.sleep(seconds)\n",
            inputParameterDefinitions=params(seconds="numeric"),
        )
        try:
            sign_in(browser, server, "admin", ADMIN_PASSWORD)
            browser.get(f"{server.url}/#/services/{name}/v1")
            wait_for(browser, "#batch-records").send_keys('[{"seconds": 30}, {"seconds": 30}]')
            browser.find_element(By.CSS_SELECTOR, "#batch-form button[type=submit]").click()
            cancel = wait_for(browser, "#batches button[aria-label^='Cancel ']")
            execution = str(cancel.get_attribute("aria-label")).removeprefix("Cancel ")
            cancel.click()
            browser.switch_to.alert.accept()
            wait_until(
                browser, lambda d: "0 batch executions" in d.find_element(By.ID, "batches").text
            )
            assert client.get(f"/api/{name}/v1/batch").json() == []
            assert client.get(f"/api/{name}/v1/batch/{execution}").status_code == 404
        finally:
            client.delete(f"/services/{name}/v1")
