"""The web pages over HTTP (``ledger serve --web``): sign-in, sessions and CSRF, what each role
sees and may not see, Danish first, the PDF against the JSON report, the report check, and
the OpenAPI UI offline. The same pages in a real browser: ``test_browser``."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
from click.testing import CliRunner

from cli.main import cli
from ledger.disclosure import CATEGORIES
from tests.support.pages import MOVED, Site, consented, csrf_of, site
from tests.support.wire import event_id

__all__ = ["site"]


def text_of(html: str) -> str:
    """A page's words, without tags and with single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- signing in ------------------------------------------------------------------------------


def test_a_page_without_a_session_leads_to_the_sign_in_page(site: Site) -> None:
    with site.browser() as browser:
        answer = browser.get("/web/worklist")
    assert answer.status_code in (302, 303)
    assert answer.headers["location"] == "/web/sign-in"


def test_signing_in_without_the_forms_csrf_token_is_refused(site: Site) -> None:
    with site.browser() as browser:
        browser.get("/web/sign-in")
        refused = browser.post("/web/sign-in", data={"token": site.secret("aalborg")})
        forged = browser.post("/web/sign-in", data={"token": site.secret("aalborg"), "csrf": "x"})
        assert (refused.status_code, forged.status_code) == (403, 403)
        assert browser.get("/web/worklist").status_code in (302, 303)


def test_the_session_cookie_is_httponly_and_samesite_strict(site: Site) -> None:
    with site.browser() as browser:
        form = browser.get("/web/sign-in")
        signed = browser.post(
            "/web/sign-in", data={"token": site.secret("aalborg"), "csrf": csrf_of(form.text)}
        )
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/web" in cookie
    assert site.secret("aalborg").lower() not in cookie  # sealed, not readable


def test_an_unknown_token_is_refused_on_the_sign_in_page(site: Site) -> None:
    with site.browser() as browser:
        form = browser.get("/web/sign-in")
        refused = browser.post("/web/sign-in", data={"token": "nope", "csrf": csrf_of(form.text)})
    assert refused.status_code == 401
    assert "Tokenet er ukendt eller tilbagekaldt." in refused.text


def test_an_administrator_token_has_no_pages(site: Site) -> None:
    with site.browser() as browser:
        form = browser.get("/web/sign-in")
        refused = browser.post(
            "/web/sign-in", data={"token": site.secret("admin"), "csrf": csrf_of(form.text)}
        )
    assert refused.status_code == 403


def test_signing_out_needs_the_csrf_token_and_ends_the_session(site: Site) -> None:
    with site.signed_in("aalborg") as browser:
        worklist = browser.get("/web/worklist")
        assert worklist.status_code == 200
        assert browser.post("/web/sign-out", data={}).status_code == 403
        assert browser.get("/web/worklist").status_code == 200
        out = browser.post("/web/sign-out", data={"csrf": csrf_of(worklist.text)})
        assert out.status_code == 303
        assert browser.get("/web/worklist").status_code in (302, 303)


def test_a_revoked_token_ends_its_session_at_the_next_page(site: Site) -> None:
    made = CliRunner().invoke(
        cli, ["--db", site.db, "token", "create", "--role", "investigator", "--json"]
    )
    issued = json.loads(made.output)
    site.tokens["short-lived"] = issued
    with site.signed_in("short-lived") as browser:
        assert browser.get("/web/ledger").status_code == 200
        revoked = CliRunner().invoke(
            cli, ["--db", site.db, "token", "revoke", issued["token"]["id"], "--json"]
        )
        assert revoked.exit_code == 0, revoked.output
        assert browser.get("/web/ledger").status_code in (302, 303)


# --- what each role sees -------------------------------------------------------------------


def test_a_role_reads_only_its_own_pages(site: Site) -> None:
    with site.signed_in("aalborg") as caseworker:
        assert caseworker.get(f"/web/status/{MOVED}").status_code == 403
        assert caseworker.get(f"/web/investigate/{MOVED}").status_code == 403
    with site.signed_in("immigration") as immigration:
        assert immigration.get(f"/web/persons/{MOVED}").status_code == 403
        assert immigration.get("/web/ledger").status_code == 403


def test_the_caseworker_sees_withheld_values_with_their_legal_basis_never_as_zero(
    site: Site,
) -> None:
    with site.signed_in("aalborg") as browser:
        page = browser.get(f"/web/persons/{MOVED}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Tilbageholdt fra dig" in words
    assert "tilbageholdt (beskæftigelse)" in words
    assert not CATEGORIES["employment"].without_consent
    assert "deles kun med denne kommune med personens samtykke, som ikke er givet" in words
    months = re.search(r"Måneder i ordinær beskæftigelse, seneste 36 (\S+)", words)
    assert months is not None
    assert months.group(1) == "tilbageholdt"


def test_another_municipalitys_person_is_the_same_404_page_as_an_unknown_one(
    site: Site,
) -> None:
    with site.signed_in("odense") as browser:
        moved_away = browser.get(f"/web/persons/{MOVED}")
        unknown = browser.get("/web/persons/P-NOBODY-HERE")
    assert (moved_away.status_code, unknown.status_code) == (404, 404)
    assert moved_away.text.replace(MOVED, "PERSON") == unknown.text.replace(
        "P-NOBODY-HERE", "PERSON"
    )


def test_the_worklist_lists_due_and_overdue_by_date(site: Site) -> None:
    with site.signed_in("kobenhavn") as browser:
        page = browser.get("/web/worklist", params={"on": "2025-06-01"})
    assert page.status_code == 200
    rows = re.findall(r"<tr( class=\"overdue\")?>\s*<td>([^<]+)<", page.text)
    assert rows, page.text
    assert rows[0][0]  # the earliest item, P-HVI-0001's follow-up, is overdue
    assert "21. april 2025" in page.text
    assert "P-KBH-0003" in page.text


def test_pages_write_the_same_access_log_as_the_api(site: Site) -> None:
    with site.signed_in("aalborg") as browser:
        assert browser.get(f"/web/persons/{MOVED}").status_code == 200
    with site.api("investigator") as api:
        entries = api.get("/v1/access-log", params={"person": MOVED, "limit": 1000}).json()
    token = site.tokens["aalborg"]["token"]["id"]
    actions = {e["action"] for e in entries["entries"] if e["token_id"] == token}
    assert {"status", "sanctions", "history"} <= actions


def test_the_access_log_says_a_consents_legal_basis_in_the_readers_language(site: Site) -> None:
    """The log stores the basis in English with an ISO date (the API's words); the page says it
    in its reader's language, the date as that language writes it."""
    person = "P-PAGES-CONSENT"
    stored = consented(site, person)
    with site.api("investigator") as api:
        logged = api.get("/v1/access-log", params={"person": person}).json()["entries"]
    assert stored in [basis for entry in logged for basis in entry["legal_basis"]]
    with site.signed_in("investigator") as browser:
        danish = text_of(browser.get(f"/web/investigate/{person}").text)
    with site.signed_in("investigator", **{"Accept-Language": "en"}) as browser:
        english = text_of(browser.get(f"/web/investigate/{person}").text)
    consent = event_id(f"{person}/consent")
    assert (
        f"personens samtykke givet den 20. august 2024 (hændelse {consent}), registreret af "
        "kommune 461 (ingen sagsbehandler angivet), dokumentation: samtykkeerklæring "
        "(underskrevet), side 2: Odense"
    ) in danish
    assert "consent of the person" not in danish
    assert stored.replace("2024-08-20", "20 August 2024") in english


def test_the_investigator_replays_with_the_rules_and_their_paragraphs(site: Site) -> None:
    with site.signed_in("investigator") as browser:
        page = browser.get("/web/investigate/P-KBH-0002")
    assert page.status_code == 200
    assert "INL § 19 stk. 1" in page.text
    assert "hashkæden er intakt" in page.text
    assert page.text.count('class="mark') == page.text.count('<tr class="step')


def test_the_investigators_timeline_answers_the_as_of_and_known_at_asked(site: Site) -> None:
    with site.signed_in("investigator") as browser:
        page = browser.get(
            "/web/investigate/P-KBH-0002",
            params={"as_of": "2025-01-01", "known_at": "2020-01-01T00:00:00"},
        )
    assert page.status_code == 200
    assert 'data-day="2025-01-01"' in page.text
    assert 'data-moment="2020-01-01T00:00:00+00:00"' in page.text
    assert 'class="mark' not in page.text  # nothing was known then


def test_a_bad_date_is_a_page_naming_the_field(site: Site) -> None:
    with site.signed_in("investigator") as browser:
        page = browser.get("/web/investigate/P-KBH-0002", params={"as_of": "someday"})
    assert page.status_code == 422
    assert "as_of" in page.text


# --- Danish first -------------------------------------------------------------------------


def test_pages_are_danish_by_default_with_danish_dates_and_amounts(site: Site) -> None:
    with site.signed_in("aarhus") as browser:
        page = browser.get("/web/persons/P-KBH-0002")
    assert page.headers["content-language"] == "da"
    assert '<html lang="da">' in page.text
    assert "1.251,68\N{NO-BREAK SPACE}kr." in page.text
    assert "10. december 2025" in page.text
    assert "fradrag" in page.text


def test_pages_are_english_when_the_browser_asks_or_the_reader_switches(site: Site) -> None:
    with site.signed_in("aarhus", **{"Accept-Language": "en-GB,en;q=0.8"}) as browser:
        page = browser.get("/web/persons/P-KBH-0002")
        assert "DKK1,251.68" in page.text
        assert "10 December 2025" in page.text
    with site.signed_in("aarhus") as browser:
        switched = browser.get("/web/language/en", params={"back": "/web/persons/P-KBH-0002"})
        assert switched.headers["location"] == "/web/persons/P-KBH-0002"
        assert "Sanctions imposed" in browser.get("/web/persons/P-KBH-0002").text
        elsewhere = browser.get("/web/language/da", params={"back": "https://example.org/"})
        assert elsewhere.headers["location"] == "/web"


# --- Udlændingestyrelsen: the report, its PDF, the check ------------------------------------


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode()


def test_the_status_pdf_holds_the_json_reports_facts_and_its_seal_on_every_page(
    site: Site, tmp_path: Path
) -> None:
    person = "P-KBH-0001"
    with site.api("immigration") as api:
        report = api.get(f"/v1/persons/{person}/status").json()
    with site.signed_in("immigration") as browser:
        pdf = browser.get(
            f"/web/status/{person}/pdf",
            params={"as_of": report["as_of"], "known_at": report["known_at"]},
        )
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    pages = [page for page in text.split("\f") if page.strip()]
    assert pages
    for page in pages:
        flat = re.sub(r"\s+", "", page)
        assert report["digest"] in flat
        assert report["head_hash"] in flat
        assert f"position{report['position']}" in flat
    words = re.sub(r"\s+", " ", text)
    assert "Statusrapport om P-KBH-0001" in words
    assert "101 København" in words
    assert "1. marts 2022" in words  # responsibility assumed, as Danish readers write it
    assert report["rule_pack"] in words


def test_the_check_page_says_a_report_matches_when_the_ledger_recomputes_it(site: Site) -> None:
    with site.api("immigration") as api:
        report = api.get("/v1/persons/P-KBH-0002/status").json()
    altered = {**report, "help": {**report["help"], "months_last_36": 0}}
    with site.signed_in("immigration") as browser:
        form = browser.get("/web/check")
        csrf = csrf_of(form.text)
        given = browser.post("/web/check", data={"csrf": csrf, "report": json.dumps(report)})
        forged = browser.post("/web/check", data={"csrf": csrf, "report": json.dumps(altered)})
        by_digest = browser.post(
            "/web/check",
            data={
                "csrf": csrf,
                "digest": report["digest"],
                "person": report["person"],
                "as_of": report["as_of"],
                "known_at": report["known_at"],
            },
        )
        without_csrf = browser.post("/web/check", data={"report": json.dumps(report)})
    assert "Rapporten stemmer med registret" in given.text
    assert "Rapporten stemmer ikke med registret" in forged.text
    assert "Rapporten stemmer med registret" in by_digest.text
    assert without_csrf.status_code == 403


def test_a_report_that_is_not_json_is_a_page_naming_the_field(site: Site) -> None:
    with site.signed_in("immigration") as browser:
        csrf = csrf_of(browser.get("/web/check").text)
        refused = browser.post("/web/check", data={"csrf": csrf, "report": "{nope"})
    assert refused.status_code == 422
    assert "report" in refused.text


# --- no scripts, no other hosts ------------------------------------------------------------


def test_pages_run_no_script_and_load_nothing_from_another_host(site: Site) -> None:
    with site.signed_in("investigator") as browser:
        page = browser.get("/web/investigate/P-KBH-0002")
        style = browser.get("/web/static/style.css")
        font = browser.get("/web/static/fonts/DejaVuSans.ttf")
    assert "<script" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert (style.status_code, font.status_code) == (200, 200)


def test_the_openapi_ui_references_no_external_host(site: Site) -> None:
    with httpx.Client(base_url=site.base, timeout=60) as client:
        ui = client.get("/schema")
        assert ui.status_code == 200
        links = re.findall(r'(?:src|href)="([^"]+)"', ui.text)
        assert links
        for link in links:
            assert link.startswith("/"), link
            assert not link.startswith("//"), link
            assert client.get(link).status_code == 200, link


def test_a_pasted_report_with_a_date_that_is_not_text_is_a_page_naming_the_field(
    site: Site,
) -> None:
    with site.api("immigration") as api:
        report = api.get("/v1/persons/P-KBH-0002/status").json()
    with site.signed_in("immigration") as browser:
        csrf = csrf_of(browser.get("/web/check").text)
        refused = browser.post(
            "/web/check", data={"csrf": csrf, "report": json.dumps({**report, "as_of": 2024})}
        )
        dateless = browser.post(
            "/web/check",
            data={"csrf": csrf, "digest": report["digest"], "person": report["person"]},
        )
    assert (refused.status_code, dateless.status_code) == (422, 422)
    assert "as_of" in refused.text
    assert "as_of" in dateless.text


def test_the_ledger_page_names_the_checkpoint_the_store_was_checked_against(
    site: Site, tmp_path: Path
) -> None:
    with site.signed_in("investigator") as browser:
        before = browser.get("/web/ledger")
        signed = CliRunner().invoke(
            cli, ["--db", site.db, "checkpoint", "--new-key", str(tmp_path / "key"), "--json"]
        )
        assert signed.exit_code == 0, signed.output
        after = browser.get("/web/ledger")
    assert "Lageret har endnu intet kontrolpunkt" in before.text
    position = json.loads(signed.output)["position"]
    assert f"Kontrolleret mod kontrolpunktet ved position {position}" in after.text
    assert "alle hashkæder er intakte" in after.text
