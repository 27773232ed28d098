"""Who may see what of a case after a move (ledger.disclosure), without a server or a store."""

from __future__ import annotations

from ledger.disclosure import (
    CATEGORIES,
    EVENT_CATEGORY,
    INVESTIGATION_BASIS,
    disclose,
    investigation,
)
from ledger.events import (
    EVENT_TYPES,
    ConsentGiven,
    ConsentWithdrawn,
    DanishTestPassed,
    EventRetracted,
)
from tests.builders import CaseBuilder


def moved_from_odense() -> CaseBuilder:
    case = CaseBuilder("P-1", "461")
    case.opened("2024-01-02")
    case.benefit("2024-01-02")
    case.contract("2024-01-20")
    case.readiness("2024-01-21")
    case.add(DanishTestPassed, "2024-05-06", test="pd1")
    case.moved("2024-06-03", to="851")
    return case


def types_seen(case: CaseBuilder, municipality: str) -> list[str]:
    return [s.event.type for s in disclose(case.events, municipality).visible]


def test_every_event_type_but_a_retraction_has_a_category_with_a_legal_basis() -> None:
    assert set(EVENT_CATEGORY) == set(EVENT_TYPES) - {"EventRetracted"}
    assert set(EVENT_CATEGORY.values()) == set(CATEGORIES)
    assert all(c.basis for c in CATEGORIES.values())


def test_the_no_consent_list_is_the_bill_remark_and_akl_69_r() -> None:
    without_consent = {name for name, c in CATEGORIES.items() if c.without_consent}
    assert without_consent == {
        "personal_data",
        "responsibility",
        "consent",
        "contract",
        "declaration",
        "participation",
        "sanctions",
    }
    assert "AKL § 69 r" in CATEGORIES["sanctions"].basis


def test_without_consent_the_new_municipality_sees_only_the_no_consent_list() -> None:
    case = moved_from_odense()

    seen = disclose(case.events, "851")

    assert [s.event.type for s in seen.visible] == [
        "ResponsibilityAssumed",
        "ContractSigned",
        "MunicipalityMoved",
    ]
    assert seen.disclosed == ("contract", "personal_data", "responsibility")
    assert seen.withheld == ("benefits", "danish_tests", "readiness")
    assert seen.bases == tuple(
        CATEGORIES[c].basis for c in ("contract", "personal_data", "responsibility")
    )


def test_consent_to_the_reader_shows_the_rest_and_names_itself_as_the_basis() -> None:
    case = moved_from_odense()
    given = case.add(
        ConsentGiven, "2024-06-10", municipality="851", recipient="851", evidence="samtykke-1"
    )

    seen = disclose(case.events, "851")

    assert seen.withheld == ()
    assert "DanishTestPassed" in [s.event.type for s in seen.visible]
    assert f"consent of the person given on 2024-06-10 (event {given.event.event_id})" in (
        seen.bases
    )


def test_consent_to_another_municipality_widens_nothing() -> None:
    case = moved_from_odense()
    case.add(ConsentGiven, "2024-06-10", municipality="851", recipient="101", evidence="samtykke-1")

    assert disclose(case.events, "851").withheld == ("benefits", "danish_tests", "readiness")


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

    assert disclose(withdrawn.events, "851").withheld == ("benefits", "danish_tests", "readiness")
    assert disclose(retracted.events, "851").withheld == ("benefits", "danish_tests", "readiness")


def test_a_retraction_of_a_withheld_event_is_withheld_with_it() -> None:
    case = moved_from_odense()
    test = next(s for s in case.events if isinstance(s.event, DanishTestPassed))
    case.municipality = "461"
    case.add(EventRetracted, "2024-05-20", retracts=test.event.event_id, reason="wrong person")

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
