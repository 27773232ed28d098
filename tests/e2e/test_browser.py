"""The pages in a real browser: Debian's Chromium (``/usr/bin/chromium``, which ``.ci/run``
installs) driven by Playwright. Each role signs in with the form and reads its pages; the
tests check what each sees and does not see, keyboard navigation and labels, the timeline's
marks against the case's events, and the PDF's text against the JSON report. Every page, and
the PDF's first page, is saved as a PNG under ``.artifacts/pages`` to be looked at.

Without Chromium these tests skip, saying why, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.pages import ARTIFACTS, MOVED, Site, consented, sqlite_site

__all__ = ["sqlite_site"]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ARTIFACTS / "pages"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI installs it")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Page, site: Site, reader: str) -> None:
    page.goto(f"{site.base}/web/")
    page.get_by_label("Dit token").fill(site.secret(reader))
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_load_state()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_caseworker_reads_the_worklist_and_a_case_with_what_is_withheld(
    sqlite_site: Site, page: Page
) -> None:
    page.goto(f"{sqlite_site.base}/web/sign-in")
    shot(page, "01-sign-in")
    sign_in(page, sqlite_site, "aalborg")
    expect(page.get_by_role("heading", level=1)).to_have_text("Arbejdsliste for 851 Aalborg")
    page.get_by_label("Dag").fill("2024-10-01")
    page.get_by_role("button", name="Vis").click()
    expect(page.get_by_role("link", name=MOVED).first).to_be_visible()
    shot(page, "02-worklist")
    page.get_by_role("link", name=MOVED).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Sag {MOVED}")
    withheld = page.get_by_role("region", name="Tilbageholdt fra dig")
    expect(withheld).to_contain_text("beskæftigelse")
    expect(withheld).to_contain_text("samtykke")
    months = page.locator("dt", has_text="Måneder i ordinær beskæftigelse").locator("xpath=..")
    expect(months.locator("dd")).to_have_text("tilbageholdt (beskæftigelse)")
    shot(page, "03-case-withheld")


def test_the_caseworker_gets_the_same_404_for_another_municipalitys_person(
    sqlite_site: Site, page: Page
) -> None:
    sign_in(page, sqlite_site, "odense")
    moved = page.goto(f"{sqlite_site.base}/web/persons/{MOVED}")
    assert moved is not None
    assert moved.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sagen findes ikke")
    moved_text = page.locator("main").inner_text()
    shot(page, "04-not-found")
    unknown = page.goto(f"{sqlite_site.base}/web/persons/P-NOBODY")
    assert unknown is not None
    assert unknown.status == 404
    assert page.locator("main").inner_text() == moved_text


def test_the_case_at_a_glance_shows_sanctions_with_paragraphs_in_danish(
    sqlite_site: Site, page: Page
) -> None:
    sign_in(page, sqlite_site, "aarhus")
    page.goto(f"{sqlite_site.base}/web/persons/P-KBH-0002")
    sanctions = page.get_by_role("region", name="Pålagte sanktioner")
    expect(sanctions).to_contain_text("AKL § 36")
    expect(sanctions).to_contain_text("1.251,68\N{NO-BREAK SPACE}kr.")
    expect(sanctions).to_contain_text("AKL § 41")  # what the law points to for the refusal
    for heading in ("Kontrakt, erklæring og program", "Opfølgninger", "Deltagelse", "Danskprøver"):
        expect(page.get_by_role("heading", name=heading, exact=False).first).to_be_visible()
    shot(page, "05-case")


def test_keyboard_reaches_the_skip_link_first_and_every_field_has_a_label(
    sqlite_site: Site, page: Page
) -> None:
    page.goto(f"{sqlite_site.base}/web/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Gå til indhold"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    sign_in(page, sqlite_site, "investigator")
    for path in ("/web/investigate/P-KBH-0002", "/web/ledger", "/web/investigate"):
        page.goto(f"{sqlite_site.base}{path}")
        unlabelled = page.evaluate(
            "[...document.querySelectorAll('input:not([type=hidden]), textarea, select')]"
            ".filter(e => e.labels.length === 0).map(e => e.name)"
        )
        assert unlabelled == [], path
    page.goto(f"{sqlite_site.base}/web/investigate")
    page.get_by_label("Personreference").focus()
    page.keyboard.type("P-KBH-0002")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/web/investigate/P-KBH-0002$"))


def test_the_timeline_has_a_mark_for_every_event_and_highlights_sanctions(
    sqlite_site: Site, page: Page
) -> None:
    with sqlite_site.api("investigator") as api:
        history = api.get("/v1/persons/P-KBH-0002/history").json()
    sign_in(page, sqlite_site, "investigator")
    page.goto(f"{sqlite_site.base}/web/investigate/P-KBH-0002")
    picture = page.get_by_role("img", name="Tidslinje for sag P-KBH-0002")
    expect(picture).to_be_visible()
    marks = picture.locator("g.mark")
    shown = {(m.get_attribute("data-position"), m.get_attribute("data-type")) for m in marks.all()}
    events = {(str(e["position"]), e["type"]) for e in history["entries"]}
    assert shown == events
    sanctions = [e for e in history["entries"] if e["type"] == "SanctionImposed"]
    assert picture.locator("g.mark.sanction").count() == len(sanctions) == 3
    bands = picture.locator("g.band")
    assert [b.get_attribute("data-municipality") for b in bands.all()] == ["101", "751"]
    expect(picture.locator("g.as-of")).to_have_attribute("data-day", history["as_of"])
    expect(page.get_by_role("region", name="Sagens integritet")).to_contain_text("intakt")
    replay = page.get_by_role("region", name="Genafspilning med de regler, der blev anvendt")
    expect(replay).to_contain_text("INL § 19 stk. 1")
    shot(page, "06-investigate")
    page.get_by_label("Opgjort pr. (gyldighedstid)").fill("2025-06-30")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url(re.compile(r".*as_of=2025-06-30.*"))
    expect(picture.locator("g.as-of")).to_have_attribute("data-day", "2025-06-30")
    page.goto(f"{sqlite_site.base}/web/ledger")
    expect(page.get_by_role("region", name="Registrets integritet")).to_contain_text("intakte")
    expect(page.get_by_role("region", name="Adgangslog")).to_contain_text("P-KBH-0002")
    shot(page, "07-ledger")


def test_the_access_log_says_a_consents_legal_basis_in_the_readers_language(
    sqlite_site: Site, page: Page
) -> None:
    person = "P-BROWSER-CONSENT"
    stored = consented(sqlite_site, person)
    sign_in(page, sqlite_site, "investigator")
    page.goto(f"{sqlite_site.base}/web/investigate/{person}")
    log = page.get_by_role("region", name="Adgangslog for sagen")
    # the case page's reads (status, sanctions, history) are logged each with the basis
    given = "personens samtykke givet den 20. august 2024"
    read = log.locator("tr", has_text=given).first
    danish = read.locator("li", has_text=given)
    expect(danish).to_be_hidden()  # the bases of a read are folded under their count
    read.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(danish).to_be_visible()
    expect(danish).to_contain_text(
        "registreret af kommune 461 (ingen sagsbehandler angivet), dokumentation: "
        "samtykkeerklæring (underskrevet), side 2: Odense"
    )
    shot(page, "09-access-log-consent")
    page.get_by_role("link", name="English").click()
    log = page.get_by_role("region", name="Access log for this case")
    given = "consent of the person given on 20 August 2024"
    read = log.locator("tr", has_text=given).first
    english = read.locator("li", has_text=given)
    read.locator("summary").click()
    expect(english).to_have_text(stored.replace("2024-08-20", "20 August 2024"))


def test_udlaendingestyrelsen_reads_the_report_and_its_pdf_matches_the_json(
    sqlite_site: Site, page: Page, tmp_path: Path
) -> None:
    person = "P-KBH-0002"
    with sqlite_site.api("immigration") as api:
        report = api.get(f"/v1/persons/{person}/status").json()
    sign_in(page, sqlite_site, "immigration")
    page.get_by_label("Personreference").fill(person)
    page.get_by_role("button", name="Åbn").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Statusrapport om {person}")
    expect(page.get_by_role("region", name="Segl")).to_contain_text(report["digest"])
    shot(page, "08-status")
    link = page.get_by_role("link", name="Hent som PDF").get_attribute("href")
    assert link is not None
    answer = page.request.get(f"{sqlite_site.base}{link}")
    assert answer.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "status.pdf"
    pdf.write_bytes(answer.body())
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    for value in (report["digest"], report["head_hash"], report["person"], report["rule_pack"]):
        assert value.replace(" ", "") in flat
    assert "751Aarhus" in flat
    assert "1.september2024" not in flat  # not a date of this case: the facts are the report's
    assert "2.september2024" in flat  # responsibility assumed, as Danish readers write it
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(SHOTS / "09-pdf")],
        check=True,
        timeout=60,
    )
    page.goto(f"{sqlite_site.base}/web/check")
    page.get_by_label("Rapport (JSON)").fill(answer_json(sqlite_site, person))
    page.get_by_role("button", name="Kontrollér").click()
    expect(page.get_by_role("status")).to_contain_text("Rapporten stemmer med registret")
    shot(page, "10-check")


def answer_json(site: Site, person: str) -> str:
    with site.api("immigration") as api:
        return api.get(f"/v1/persons/{person}/status").text


def test_each_role_sees_only_its_own_menu(sqlite_site: Site, page: Page) -> None:
    menus = {
        "aalborg": ["Arbejdsliste"],
        "investigator": ["Find en sag", "Register og adgangslog"],
        "immigration": ["Statusrapporter", "Kontrollér en rapport"],
    }
    for reader, items in menus.items():
        sign_in(page, sqlite_site, reader)
        menu = page.get_by_role("navigation", name="Hovedmenu")
        assert menu.get_by_role("link").all_inner_texts() == items
        page.get_by_role("button", name="Log ud").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Log ind")


def test_pdftoppm_and_pdftotext_are_there_when_chromium_is(browser: Browser) -> None:
    assert browser.version
    assert shutil.which("pdftotext") is not None
    assert shutil.which("pdftoppm") is not None
