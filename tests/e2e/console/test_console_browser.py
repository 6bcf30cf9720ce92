"""An officer works the console in a real browser: sign in, find a case, read its timeline,
acknowledge and resolve an alert and see the inbox change, add a note, take the case (assign it to
themself), meet the not-found page for a case outside their jurisdiction, sign out. Every page is
checked with axe-core and photographed at 1280 px and 360 px."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.console.conftest import IN_SCOPE, OFFICER, OTHER_IN_SCOPE, OUT_OF_SCOPE, Pages
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
JOB_OFFER = "Job offer from Al Noor Contracting (SA), 1,500.00 SAR a month for 24 months, through agent RA-12"


def reload_until(pages: Pages, path: str, condition: Callable[[str], bool], what: str, timeout_s: float = 60) -> None:
    """Reload `path` until its text satisfies `condition` (the worker folds officer events asynchronously)."""

    def shown() -> bool:
        pages.open(path)
        return condition(pages.text())

    wait_until(shown, timeout_s, f"{what} shown", 0.5, lambda: f"page says:\n{pages.text()}")


def submitted(pages: Pages, action: Callable[[], None]) -> None:
    """Do `action` (a click or submit that loads a new page) and wait until the new page is there:
    a click returns before the browser has navigated."""
    old_page = pages.driver.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(pages.driver, 30).until(lambda _driver: _gone(old_page))
    WebDriverWait(pages.driver, 30).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete"
    )


def _gone(element: WebElement) -> bool:
    """Whether `element` belongs to a page the browser has left. Chromium says so with a stale-element
    error, or, while the next page is being built, with "Node ... does not belong to the document"."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" not in str(error):
            raise
        return True
    return False


def fill(pages: Pages, field_id: str, text: str) -> None:
    element = pages.driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(text)


def act_on_alert(pages: Pages, alert_id: str, action: str, note: str) -> None:
    """Open the alert's actions with the keyboard (Enter on the summary), write a note, press the button."""
    field = pages.driver.find_element(By.ID, f"note-{alert_id}")
    field.find_element(By.XPATH, "ancestor::details/summary").send_keys("\n")
    field.send_keys(note)
    button = field.find_element(By.XPATH, f"following::button[normalize-space()='{action.capitalize()}']")
    submitted(pages, button.click)


def distress_alert_id(pages: Pages) -> str:
    forms = pages.driver.find_elements(By.CSS_SELECTOR, "form[action$='/resolve']")
    for form in forms:
        item = form.find_element(By.XPATH, "ancestor::li")
        if IN_SCOPE in item.text and "Distress" in item.text:
            return form.get_attribute("action").split("/alerts/")[1].split("/")[0]
    raise AssertionError(f"no distress alert for {IN_SCOPE} in the inbox:\n{pages.text()}")


def test_an_officer_works_a_case_in_the_console(browser, console_world):
    pages = Pages(browser, console_world)

    pages.open("/console/")
    assert browser.current_url.startswith(console_world.base_url + "/console/sign-in")
    pages.check("sign-in")
    fill(pages, "token", console_world.token)
    submitted(pages, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click)

    assert browser.find_element(By.TAG_NAME, "h1").text == "Alert inbox"
    inbox = pages.text()
    assert IN_SCOPE in inbox and OTHER_IN_SCOPE in inbox and OUT_OF_SCOPE not in inbox
    pages.check("inbox")

    pages.open("/console/cases")
    pages.check("cases")
    fill(pages, "q-case", IN_SCOPE)
    submitted(pages, browser.find_element(By.ID, "q-case").submit)
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Case {IN_SCOPE}"
    timeline = browser.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert JOB_OFFER in timeline and "Departed for Saudi Arabia" in timeline
    assert "Bricklayers and related workers" in pages.text()
    pages.check("case")

    pages.open("/console/inbox")
    alert_id = distress_alert_id(pages)
    act_on_alert(pages, alert_id, "acknowledge", "called her on the helpline number")
    assert "Alert acknowledged" in pages.text()

    def acknowledged(_text: str) -> bool:
        statuses = [
            item.find_element(By.CSS_SELECTOR, ".status").text
            for item in browser.find_elements(By.CSS_SELECTOR, "ol.alerts > li")
            if IN_SCOPE in item.text
        ]
        return statuses == ["Acknowledged"]

    reload_until(pages, "/console/inbox", acknowledged, "the acknowledged distress alert")
    act_on_alert(pages, alert_id, "resolve", "moved to the embassy shelter")
    reload_until(
        pages,
        "/console/inbox",
        lambda text: IN_SCOPE not in text and OTHER_IN_SCOPE in text,
        "the inbox without the resolved alert",
    )

    pages.open(f"/console/cases/{IN_SCOPE}")
    fill(pages, "note-text", "Spoke to the employer; passport returned.")
    submitted(pages, browser.find_element(By.ID, "note-text").submit)
    reload_until(
        pages,
        f"/console/cases/{IN_SCOPE}",
        lambda text: "Spoke to the employer; passport returned." in text.split("Notes")[-1],
        "the note on the case page",
    )

    submitted(pages, browser.find_element(By.XPATH, "//button[normalize-space()='Assign']").click)

    def assigned_to_me(_text: str) -> bool:
        return browser.find_element(By.XPATH, "//dt[.='Assigned to']/following-sibling::dd[1]").text == OFFICER

    reload_until(pages, f"/console/cases/{IN_SCOPE}", assigned_to_me, "the case assigned to the officer")

    for name in ("headcount", "skills"):
        pages.open(f"/console/{name}")
        assert "Saudi Arabia" in pages.text()
        pages.check(name)

    pages.open(f"/console/cases/{OUT_OF_SCOPE}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    out_of_scope = pages.text()
    pages.open("/console/cases/IN-NO-SUCH-CASE")
    assert pages.text() == out_of_scope  # the same page as a case that does not exist
    pages.check("not-found")

    submitted(pages, browser.find_element(By.CSS_SELECTOR, "form.signout button").click)
    assert "You are signed out" in pages.text()
    pages.open("/console/inbox")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sign in"
    assert len(pages.shots) == 2 * 7
