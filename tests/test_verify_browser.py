"""The verification page in a real browser: Debian's headless Chromium driven by Playwright, against
the service run by uvicorn, a real database and the fake Telegram Bot API (see conftest.py).

Each test opens a link the way a person would, looks at what the page shows, and checks what the
click left behind: the user's row in the database and the confirmation in the chat.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import OUTPUT, VERIFY_SECRET
from teamops import tokens

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CHAT_ID = "-100500"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
# The first city search in a fresh service loads the city data set: under 1 s idle, several on a busy CI box.
FIRST_CITY_SEARCH_MS = 20_000


def _chromium_path() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module; each test gets its own context (zone, viewport, storage)."""
    path = _chromium_path()
    if path is None:
        message = ("Debian's chromium is not installed (expected /usr/bin/chromium): the verification-page "
                   "tests need it. Install it with `apt-get install -y chromium` or run `make test`.")
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # the service runs beside other tests; a page is slower then
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser tab, with everything the page complained about while it was used."""

    def __init__(self, context, page):
        self.context = context
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))

    def csp_violations(self) -> list[str]:
        seen = self.console + self.page.evaluate("window.__cspViolations || []")
        return [line for line in seen if "Content Security Policy" in line or line.startswith("csp:")]


# Collected before any page script runs; Playwright's init scripts are exempt from the page's CSP.
_RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push("csp: " + e.violatedDirective + " blocked " + e.blockedURI);
});
"""


@pytest.fixture
def visit(browser):
    """visit(timezone_id, viewport) -> a Visit in a fresh context; contexts are closed after the test."""
    contexts = []

    def open_tab(timezone_id: str = "Europe/Berlin", viewport: dict = DESKTOP, init_script: str = "") -> Visit:
        context = browser.new_context(timezone_id=timezone_id, viewport=viewport, locale="en-GB",
                                      is_mobile=viewport["width"] < 600, has_touch=viewport["width"] < 600)
        context.set_default_timeout(10_000)
        context.add_init_script(_RECORD_CSP + init_script)
        contexts.append(context)
        return Visit(context, context.new_page())

    yield open_tab
    for context in contexts:
        context.close()


def link(app, user_id: str, now: float | None = None) -> str:
    return f"{app.base}/verify?token={tokens.issue(VERIFY_SECRET, 'telegram', user_id, CHAT_ID, now=now)}"


def stored_zone(db, user_id: str) -> dict:
    return db.users.find_one({"platform": "telegram", "user_id": user_id}) or {}


def shot(page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / name), full_page=True)


def _clock_readings(tz: str, around: datetime) -> set[str]:
    """What a correct clock in `tz` may show around `around`: the minute before, that one, the next."""
    return {f"{(around + timedelta(minutes=step)).astimezone(ZoneInfo(tz)):%a %H:%M}" for step in (-1, 0, 1)}


# ---------------------------------------------------------------- the happy paths
def test_phone_in_tokyo_confirms_detected_zone(app, visit, db, telegram_api):
    from playwright.sync_api import expect

    tab = visit("Asia/Tokyo", PHONE)
    page = tab.page
    response = page.goto(link(app, "8001"))
    assert response.status == 200, f"the person saw HTTP {response.status} instead of the page"

    expect(page.locator("#detected-zone")).to_have_text("Asia/Tokyo")
    expect(page.locator("#detected-place")).to_have_text("Tokyo")
    expect(page.locator("#detected-place")).to_be_visible()
    clock = page.locator("#local-time")
    expect(clock).to_have_text(re.compile(r"^\w{3} \d{2}:\d{2}$"))
    shown = clock.text_content()
    assert shown in _clock_readings("Asia/Tokyo", datetime.now(timezone.utc)), \
        f"the page said it is {shown!r} in Tokyo; it is {datetime.now(ZoneInfo('Asia/Tokyo')):%a %H:%M} there"
    expect(page.locator("#local-offset")).to_have_text("(UTC+9)")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"on a 360 px phone the page scrolls sideways ({width} px wide)"
    confirm = page.get_by_role("button", name="Confirm this time zone")
    expect(confirm).to_be_enabled()
    expect(confirm).to_be_in_viewport()
    shot(page, "verify-360.png")

    confirm.click()
    expect(page.locator("#status")).to_contain_text("You're set: Asia/Tokyo")
    expect(page.get_by_role("button", name="Confirmed")).to_be_disabled()
    expect(page.locator("#picker")).to_be_hidden()
    shot(page, "verify-360-confirmed.png")

    user = stored_zone(db, "8001")
    assert (user.get("tz"), user.get("source")) == ("Asia/Tokyo", "web"), f"stored: {user}"
    [said] = telegram_api.wait_sent(1)
    assert str(said["chat_id"]) == CHAT_ID and "Asia/Tokyo" in said["text"], said
    assert tab.errors == [], f"the page threw: {tab.errors}"


def test_desktop_search_finds_lisbon(app, visit, db):
    from playwright.sync_api import expect

    tab = visit("America/New_York", DESKTOP)
    page = tab.page
    page.goto(link(app, "8002"))
    expect(page.locator("#detected-zone")).to_have_text("America/New_York")

    page.get_by_role("combobox").fill("Lisbon")
    expect(page.get_by_role("combobox")).to_have_attribute("aria-expanded", "true")
    # The city comes from GET /api/cities; the zone row comes from the browser's own zone list.
    city = page.locator('#zone-options [role="option"][data-tz="Europe/Lisbon"]').filter(has_text="Portugal")
    expect(city).to_have_text(re.compile(r"Lisbon, Portugal\s*Europe/Lisbon"), timeout=FIRST_CITY_SEARCH_MS)
    expect(page.locator('#zone-options [role="option"][data-tz="Europe/Lisbon"]')).to_have_count(2)  # city + zone
    shot(page, "verify-1280.png")

    city.click()
    expect(page.locator("#zone-heading")).to_have_text("You picked")
    expect(page.locator("#detected-zone")).to_have_text("Europe/Lisbon")
    expect(page.locator("#detected-place")).to_have_text("Lisbon")
    expect(page.get_by_role("listbox")).to_be_hidden()

    page.get_by_role("button", name="Confirm this time zone").click()
    expect(page.locator("#status")).to_contain_text("You're set: Europe/Lisbon")
    shot(page, "verify-1280-confirmed.png")
    user = stored_zone(db, "8002")
    assert (user.get("tz"), user.get("source")) == ("Europe/Lisbon", "web"), f"stored: {user}"
    assert tab.errors == [], f"the page threw: {tab.errors}"


def test_keyboard_only(app, visit, db):
    from playwright.sync_api import expect

    page = visit("Asia/Tokyo", DESKTOP).page
    page.goto(link(app, "8003"))
    expect(page.locator("#detected-zone")).to_have_text("Asia/Tokyo")
    search = page.get_by_role("combobox")

    for _ in range(6):  # Tab through the page until the search box has focus, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "zone-search":
            break
    expect(search).to_be_focused()

    page.keyboard.type("Berl")
    expect(page.get_by_role("listbox")).to_be_visible()
    page.keyboard.press("ArrowDown")
    highlighted = page.locator('#zone-options [role="option"][aria-selected="true"]')
    expect(highlighted).to_have_attribute("data-tz", "Europe/Berlin")
    expect(search).to_have_attribute("aria-activedescendant", re.compile(r"^zone-option-\d+$"))
    page.keyboard.press("Enter")

    expect(page.locator("#detected-zone")).to_have_text("Europe/Berlin")
    confirm = page.get_by_role("button", name="Confirm this time zone")
    expect(confirm).to_be_focused()  # the next step is Confirm, and focus is already there
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("You're set: Europe/Berlin")
    assert stored_zone(db, "8003").get("tz") == "Europe/Berlin"


def test_browser_with_an_old_zone_name_stores_the_current_one(app, visit, db):
    """Browsers still report India as Asia/Calcutta; the stored zone is today's IANA name."""
    from playwright.sync_api import expect

    page = visit("Asia/Calcutta", PHONE).page
    page.goto(link(app, "8004"))
    expect(page.locator("#detected-zone")).to_have_text("Asia/Kolkata")
    expect(page.locator("#detected-place")).to_have_text("Kolkata")
    page.get_by_role("button", name="Confirm this time zone").click()
    expect(page.locator("#status")).to_contain_text("You're set: Asia/Kolkata")
    assert stored_zone(db, "8004").get("tz") == "Asia/Kolkata"


def test_browser_reporting_an_unknown_zone_can_still_search(app, visit, db):
    from playwright.sync_api import expect

    unknown_zone = """
    (function () {
      var resolved = Intl.DateTimeFormat.prototype.resolvedOptions;
      Intl.DateTimeFormat.prototype.resolvedOptions = function () {
        var options = resolved.call(this);
        options.timeZone = "Mars/Olympus_Mons";
        return options;
      };
    })();
    """
    page = visit("Europe/Berlin", PHONE, init_script=unknown_zone).page
    page.goto(link(app, "8005"))
    expect(page.locator("#zone-heading")).to_have_text("We couldn't detect your time zone")
    expect(page.locator("#detected-place")).to_have_text("Search below")
    confirm = page.get_by_role("button", name="Confirm this time zone")
    expect(confirm).to_be_disabled()  # nothing to confirm yet: Mars/Olympus_Mons is not a zone

    page.get_by_role("combobox").fill("Tokyo")
    # Wait for the list to settle (city results re-render it) before pointing at a row.
    tokyo = page.locator('#zone-options [role="option"][data-tz="Asia/Tokyo"]').filter(has_text=re.compile(r"^Tokyo, Japan"))
    expect(tokyo).to_have_count(1, timeout=FIRST_CITY_SEARCH_MS)
    tokyo.click()
    expect(page.locator("#detected-zone")).to_have_text("Asia/Tokyo")
    confirm.click()
    expect(page.locator("#status")).to_contain_text("You're set: Asia/Tokyo")
    assert stored_zone(db, "8005").get("tz") == "Asia/Tokyo"


# ---------------------------------------------------------------- links that cannot be used
def _tampered(token: str, user_id: str) -> str:
    """The same signature over a payload edited to claim another user."""
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["u"] = user_id
    edited = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{edited}.{signature}"


def _assert_friendly_error(page, response, reason: str) -> None:
    from playwright.sync_api import expect

    assert response.status == 400, f"the person saw HTTP {response.status}"
    expect(page.get_by_role("heading", level=1)).to_have_text("This link can't be used")
    expect(page.locator(".reason")).to_have_text(reason)
    main = page.get_by_role("main")
    expect(main).to_contain_text("/tz")  # how to get a new link
    expect(main).to_contain_text("/start")
    text = page.locator("body").inner_text()
    for leak in ("Traceback", 'File "', "TokenError", "Exception", "{{reason}}"):
        assert leak not in text, f"the error page shows {leak!r}: {text}"
    expect(page.locator("#confirm")).to_have_count(0)


def test_expired_tampered_and_used_links_get_the_friendly_page(app, visit, db):
    from playwright.sync_api import expect

    tab = visit("Europe/Lisbon", PHONE)
    page = tab.page

    expired = link(app, "8006", now=time.time() - 25 * 3600)
    _assert_friendly_error(page, page.goto(expired), "This link has expired.")
    shot(page, "verify-expired-360.png")

    genuine = tokens.issue(VERIFY_SECRET, "telegram", "8006", CHAT_ID)
    response = page.goto(f"{app.base}/verify?token={_tampered(genuine, '9999')}")
    _assert_friendly_error(page, response, "This link is not valid.")
    response = page.goto(f"{app.base}/verify?token={genuine[:-2]}AA")
    _assert_friendly_error(page, response, "This link is not valid.")
    _assert_friendly_error(page, page.goto(f"{app.base}/verify"), "This link is not valid.")
    assert db.users.count_documents({}) == 0, "no refused link may store anything"

    used = f"{app.base}/verify?token={genuine}"
    assert page.goto(used).status == 200
    page.get_by_role("button", name="Confirm this time zone").click()
    expect(page.locator("#status")).to_contain_text("You're set: Europe/Lisbon")
    _assert_friendly_error(page, page.goto(used), "This link has already been used.")
    assert tab.errors == [], f"the page threw: {tab.errors}"


def test_link_spent_in_another_tab_says_so_on_confirm(app, visit, db):
    """Two tabs open on one link: the second Confirm explains, and the first choice stands."""
    from playwright.sync_api import expect

    url = link(app, "8007")
    first = visit("Asia/Tokyo", DESKTOP).page
    second = visit("America/New_York", DESKTOP).page
    first.goto(url)
    second.goto(url)
    first.get_by_role("button", name="Confirm this time zone").click()
    expect(first.locator("#status")).to_contain_text("You're set: Asia/Tokyo")

    second.get_by_role("button", name="Confirm this time zone").click()
    status = second.get_by_role("status")
    expect(status).to_contain_text("This link has already been used.")
    expect(status).to_contain_text("/tz")
    assert stored_zone(db, "8007").get("tz") == "Asia/Tokyo"


# ---------------------------------------------------------------- headers and policy
def test_security_headers_and_no_csp_violations(app, visit):
    from playwright.sync_api import expect

    tab = visit("Asia/Tokyo", DESKTOP)
    page = tab.page
    response = page.goto(link(app, "8008"))
    headers = response.headers  # lower-cased names
    policy = headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "script-src 'self'" in policy, f"CSP: {policy!r}"
    assert "frame-ancestors 'none'" in policy, f"CSP: {policy!r}"
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"

    # Use every part of the page: the styles, the clock, the zone list, the city search, Confirm.
    expect(page.locator("#detected-zone")).to_have_text("Asia/Tokyo")
    page.get_by_role("combobox").fill("Lisbon")
    city = page.locator('#zone-options [role="option"]').filter(has_text="Portugal")
    expect(city).to_have_count(1, timeout=FIRST_CITY_SEARCH_MS)
    city.click()
    page.get_by_role("button", name="Confirm this time zone").click()
    expect(page.locator("#status")).to_contain_text("You're set: Europe/Lisbon")

    blocked = tab.csp_violations()
    assert blocked == [], f"the browser blocked parts of the page: {blocked}"
    assert tab.errors == [], f"the page threw: {tab.errors}"
    stylesheet_applied = page.evaluate("document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0")
    assert stylesheet_applied, "the page's stylesheet did not load"
    outside = [url for url in tab.requests if not url.startswith(app.base + "/") and not url.startswith("data:")]
    assert outside == [], f"the page fetched from outside the service: {outside}"

    error_page = page.goto(link(app, "8008", now=time.time() - 25 * 3600))
    assert error_page.status == 400
    assert error_page.headers.get("content-security-policy") == policy, "the error page has the same policy"
    assert error_page.headers.get("referrer-policy") == "no-referrer"
