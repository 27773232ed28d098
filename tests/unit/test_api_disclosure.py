"""Who may see what of a case after a move (ledger.disclosure, second edition: DOMAIN.md "Data
sharing"), without a server or a store."""

from __future__ import annotations

from ledger.disclosure import (
    CATEGORIES,
    EVENT_CATEGORY,
    INVESTIGATION_BASIS,
    WITHHELD_FIELDS,
    disclose,
    investigation,
)
from ledger.events import (
    EVENT_TYPES,
    ConsentGiven,
    ConsentWithdrawn,
    DanishTestPassed,
    EmploymentStarted,
    EventRetracted,
)
from tests.support.builders import CaseBuilder


def moved_from_odense() -> CaseBuilder:
    case = CaseBuilder("P-1", "461")
    case.opened("2024-01-02")
    case.benefit("2024-01-02")
    case.contract("2024-01-20")
    case.readiness("2024-01-21")
    case.add(DanishTestPassed, "2024-05-06", test="pd1")
    case.employment("2024-05-13")
    case.add(ConsentGiven, "2024-05-14", recipient="101", evidence="samtykke-101")
    case.moved("2024-06-03", to="851")
    return case


NEEDS_CONSENT = ("consent_to_others", "employment")


def types_seen(case: CaseBuilder, municipality: str) -> list[str]:
    return [s.event.type for s in disclose(case.events, municipality).visible]


def test_every_event_type_but_a_retraction_has_a_category_with_a_legal_basis() -> None:
    assert set(EVENT_CATEGORY) == set(EVENT_TYPES) - {"EventRetracted"}
    assert set(EVENT_CATEGORY.values()) | {"consent_to_others"} == set(CATEGORIES)
    assert all(c.basis for c in CATEGORIES.values())


def test_every_view_names_the_fields_of_every_category() -> None:
    assert set(WITHHELD_FIELDS) == {"status", "sanctions", "history", "deadlines"}
    assert all(set(table) == set(CATEGORIES) for table in WITHHELD_FIELDS.values())


def test_the_no_consent_list_is_the_bill_remark_the_indsats_and_akl_69_r() -> None:
    """DOMAIN.md "Data sharing": personal data, residence basis, contract, declaration,
    participation (with Danish education and tests) and sanctions (AKL § 69 r) go without
    consent; readiness, contact attempts and benefits too, as "nødvendige for at varetage den
    beskæftigelsesrettede indsats" [assumption]; employment, education and consents given to
    others need consent; status requests are Udlændingestyrelsen's."""
    with_consent_only = {name for name, c in CATEGORIES.items() if not c.without_consent}
    assert with_consent_only == {"consent_to_others", "employment", "education"}
    assert {name for name, c in CATEGORIES.items() if c.assumption} == {
        "readiness",
        "contact",
        "benefits",
    }
    assert "beskæftigelsesrettede indsats" in CATEGORIES["benefits"].basis
    assert "AKL § 69 r" in CATEGORIES["sanctions"].basis
    assert "UDL § 11" in CATEGORIES["status_requests"].basis


def test_without_consent_the_new_municipality_sees_only_the_no_consent_list() -> None:
    case = moved_from_odense()

    seen = disclose(case.events, "851")

    assert [s.event.type for s in seen.visible] == [
        "ResponsibilityAssumed",
        "BenefitGranted",
        "ContractSigned",
        "ReadinessAssessed",
        "DanishTestPassed",
        "MunicipalityMoved",
    ]
    disclosed = (
        "benefits",
        "contract",
        "danish_tests",
        "personal_data",
        "readiness",
        "responsibility",
    )
    assert seen.disclosed == disclosed
    assert seen.withheld == NEEDS_CONSENT
    assert seen.bases == tuple(dict.fromkeys(CATEGORIES[c].basis for c in disclosed))
    assert set(seen.withheld_events) == set(NEEDS_CONSENT)


def test_consent_to_the_reader_shows_the_rest_and_names_itself_as_the_basis() -> None:
    case = moved_from_odense()
    given = case.add(
        ConsentGiven, "2024-06-10", municipality="851", recipient="851", evidence="samtykke-1"
    )

    seen = disclose(case.events, "851")

    assert seen.withheld == ()
    assert "EmploymentStarted" in [s.event.type for s in seen.visible]
    assert (
        f"consent of the person given on 2024-06-10 (event {given.event.event_id}), recorded by "
        "municipality 851 (no caseworker named), evidence: samtykke-1"
    ) in seen.bases


def test_consent_to_another_municipality_widens_nothing() -> None:
    case = moved_from_odense()
    case.add(ConsentGiven, "2024-06-10", municipality="851", recipient="101", evidence="samtykke-1")

    assert disclose(case.events, "851").withheld == NEEDS_CONSENT


def test_a_consent_to_the_reader_recorded_by_the_earlier_municipality_is_shown_to_it() -> None:
    case = moved_from_odense()
    case.add(ConsentGiven, "2024-05-20", municipality="461", recipient="851", evidence="s-2")

    assert "consent" in disclose(case.events, "851").disclosed


def test_a_withdrawn_or_retracted_consent_no_longer_stands() -> None:
    withdrawn, retracted = moved_from_odense(), moved_from_odense()
    withdrawn.add(
        ConsentGiven, "2024-06-10", municipality="851", recipient="851", evidence="samtykke-1"
    )
    withdrawn.add(ConsentWithdrawn, "2024-07-01", municipality="851", recipient="851")
    given = retracted.add(
        ConsentGiven, "2024-06-10", municipality="851", recipient="851", evidence="samtykke-1"
    )
    retracted.add(
        EventRetracted,
        "2024-06-11",
        municipality="851",
        retracts=given.event.event_id,
        reason="entered in error",
    )

    assert disclose(withdrawn.events, "851").withheld == NEEDS_CONSENT
    assert disclose(retracted.events, "851").withheld == NEEDS_CONSENT


def test_a_retraction_of_a_withheld_event_is_withheld_with_it() -> None:
    case = moved_from_odense()
    job = next(s for s in case.events if isinstance(s.event, EmploymentStarted))
    case.municipality = "461"
    case.add(EventRetracted, "2024-05-20", retracts=job.event.event_id, reason="wrong person")

    assert "EventRetracted" not in types_seen(case, "851")


def test_a_municipality_always_sees_its_own_events_and_logs_nothing_for_them() -> None:
    case = CaseBuilder("P-2", "851")
    case.opened("2024-01-02")
    case.benefit("2024-01-02")

    seen = disclose(case.events, "851")

    assert len(seen.visible) == 2
    assert (seen.disclosed, seen.withheld, seen.bases) == ((), (), ())


def test_an_investigator_sees_the_whole_case_under_its_own_basis() -> None:
    case = moved_from_odense()

    seen = investigation(case.events)

    assert seen.visible == case.events
    assert seen.withheld == ()
    assert seen.bases == (INVESTIGATION_BASIS,)
    assert "benefits" in seen.disclosed
