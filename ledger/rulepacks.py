"""Rule packs: every legal number the ledger applies, with its paragraph and source.

A rule pack is one version of the law as the ledger applies it (DOMAIN.md, "Rule packs"). Each
``Rule`` carries the paragraph that output applying it names, where the number comes from, and
whether the sources leave it open (``assumption``: the project's documented choice). Packs are
data: a later law change is a new ``RulePack`` appended to ``PACKS``, chosen by ``pack_for`` from
the date the rule is applied to, never an edit of an existing pack.

A pack has revisions: a corrected reading of the same law is a new revision of the pack, never
an edit of an old one, so a report made under revision 1 is reproduced exactly under revision 1.
Revision 1 is the first edition of the brief, frozen; revision 2 follows its second edition,
which was read against the source texts (``shared/seeds``). Rules a revision added are ``None``
in the revisions before it; code that applies them asks ``pack.revision`` first.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from ledger.errors import InvalidField

Unit = Literal[
    "months", "hours per week", "working days per year", "daily rates", "sanctions", "channels"
]

_HANDBOOK = "handbook 2015 (Dansk Flygtningehjælp)"
_BILL = "bill remark on the integration contract (2005/06)"


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """One rule: a number (or a bare condition when ``value`` is None) and its citation."""

    name: str
    paragraph: str
    source: str
    value: int | None = None
    unit: Unit | None = None
    assumption: bool = False

    @property
    def number(self) -> int:
        """The rule's number, for code that computes with it."""
        if self.value is None:
            raise ValueError(f"rule {self.name} ({self.paragraph}) is a condition, not a number")
        return self.value


class RulePack(msgspec.Struct, frozen=True, kw_only=True):
    """The rules in force from ``valid_from`` until the next pack's ``valid_from``, as read in
    one ``revision``."""

    id: str
    revision: int
    valid_from: date

    # Contract lifecycle (INL).
    contract_deadline: Rule
    program_deadline: Rule
    weekly_hours: Rule
    program_duration: Rule
    follow_up_interval: Rule
    takeover: Rule
    contract_after_move: Rule
    refused_takeover: Rule
    case_closed_by_permit: Rule

    # Conditions for any sanction (AKL § 35, § 13); each is the rule behind an incident reason.
    written_notice: Rule
    contact_attempt: Rule
    reasonable_cause: Rule
    benefit_active: Rule
    open_offer: Rule

    # What the law points to, and how much (AKL §§ 35-41, § 69 r).
    working_days_per_year: Rule
    absence_deduction: Rule
    interview_absence_deduction: Rule
    job_refusal_reduction: Rule
    refusal_cessation: Rule
    suspension: Rule
    escalation_threshold: Rule
    escalation_lookback: Rule
    accumulation: Rule

    # Permanent residence (UDL § 11).
    permanent_residence_lookback: Rule
    status_request: Rule

    # Added by revision 2 (the second edition of the brief); None in revision 1.
    immigrant_outside_programme: Rule | None = None
    follow_up_interval_ordinary: Rule | None = None
    refused_interview_deduction: Rule | None = None
    resource_sanctions: Rule | None = None
    suspension_benefits: Rule | None = None
    status_report: Rule | None = None
    full_time_hours: Rule | None = None
    responsibility_in_valid_time: Rule | None = None
    corrections_by_recorder: Rule | None = None
    mandatory_takeover: Rule | None = None
    before_t0: Rule | None = None
    status_request_due: Rule | None = None
    consent_evidence: Rule | None = None
    whole_case_conclusions: Rule | None = None

    def rule(self, name: str) -> Rule:
        """A rule by its name, as output that applied it names it."""
        found = getattr(self, name, None)
        if not isinstance(found, Rule):
            raise KeyError(f"rule pack {self.id} has no rule {name!r}")
        return found


AKL_2015_INL_2014_R1 = RulePack(
    id="akl-2015/inl-2014",
    revision=1,
    valid_from=date(2015, 7, 1),
    contract_deadline=Rule(
        name="contract_deadline",
        value=1,
        unit="months",
        paragraph="INL § 19 stk. 1",
        source=f"INL LBK 1094/2014 § 19 stk. 1; {_HANDBOOK}",
    ),
    program_deadline=Rule(
        name="program_deadline",
        value=1,
        unit="months",
        paragraph="INL § 16 stk. 5",
        source=f"INL LBK 1094/2014 § 16 stk. 5; {_HANDBOOK}",
    ),
    weekly_hours=Rule(
        name="weekly_hours",
        value=37,
        unit="hours per week",
        paragraph="INL § 17",
        source=f"INL LBK 1094/2014 § 17; {_HANDBOOK}",
    ),
    program_duration=Rule(
        name="program_duration",
        value=36,
        unit="months",
        paragraph="INL § 16 stk. 6",
        source=f"INL LBK 1094/2014 § 16 stk. 6; {_HANDBOOK}",
    ),
    follow_up_interval=Rule(
        name="follow_up_interval",
        value=3,
        unit="months",
        paragraph="INL § 20",
        source=f"INL LBK 1094/2014 § 20 stk. 1-2; {_HANDBOOK}",
    ),
    takeover=Rule(
        name="takeover",
        paragraph="INL § 18",
        source=f"INL LBK 1094/2014 § 18 stk. 1-2; {_HANDBOOK}",
    ),
    contract_after_move=Rule(
        name="contract_after_move",
        value=1,
        unit="months",
        paragraph="INL § 18",
        source=f"{_BILL}; the time limit mirrors INL § 19 stk. 1",
        assumption=True,
    ),
    refused_takeover=Rule(
        name="refused_takeover",
        paragraph="INL § 32 stk. 1",
        source=f"INL LBK 1094/2014 § 32 stk. 1; {_HANDBOOK}",
    ),
    case_closed_by_permit=Rule(
        name="case_closed_by_permit",
        paragraph="INL § 19 stk. 8",
        source=f"INL LBK 1094/2014 § 19 stk. 8; {_BILL}",
    ),
    written_notice=Rule(
        name="written_notice",
        paragraph="AKL § 35 stk. 1",
        source=f"AKL LBK 806/2015 § 35 stk. 1; {_HANDBOOK}",
    ),
    contact_attempt=Rule(
        name="contact_attempt",
        paragraph="AKL § 35 stk. 2",
        source=f"AKL LBK 806/2015 § 35 stk. 2; {_HANDBOOK}; one recorded attempt on or after "
        "the incident date suffices",
        assumption=True,
    ),
    reasonable_cause=Rule(
        name="reasonable_cause",
        paragraph="AKL § 13 stk. 7",
        source="AKL LBK 806/2015 § 13 stk. 7-8",
    ),
    benefit_active=Rule(
        name="benefit_active",
        paragraph="AKL §§ 22-25",
        source="AKL LBK 806/2015 §§ 22-25, § 35 stk. 4: a sanction is taken from help paid",
    ),
    open_offer=Rule(
        name="open_offer",
        paragraph="AKL § 41",
        source=f"AKL LBK 806/2015 § 41 stk. 1; {_HANDBOOK}",
    ),
    working_days_per_year=Rule(
        name="working_days_per_year",
        value=260,
        unit="working days per year",
        paragraph="AKL § 35 stk. 4",
        source="AKL LBK 806/2015 § 35 stk. 4 (average daily rate); 5-day weeks",
        assumption=True,
    ),
    absence_deduction=Rule(
        name="absence_deduction",
        value=1,
        unit="daily rates",
        paragraph="AKL § 36",
        source=f"AKL LBK 806/2015 § 36; {_HANDBOOK}: one daily rate per day absent",
    ),
    interview_absence_deduction=Rule(
        name="interview_absence_deduction",
        value=1,
        unit="daily rates",
        paragraph="AKL § 37",
        source=f"AKL LBK 806/2015 § 37; {_HANDBOOK}: one daily rate per day absent",
    ),
    job_refusal_reduction=Rule(
        name="job_refusal_reduction",
        value=3,
        unit="daily rates",
        paragraph="AKL § 39",
        source=f"AKL LBK 806/2015 § 39, amount by § 40 stk. 1; {_HANDBOOK}",
    ),
    refusal_cessation=Rule(
        name="refusal_cessation",
        paragraph="AKL § 41",
        source=f"AKL LBK 806/2015 § 41 stk. 1; {_HANDBOOK}",
    ),
    suspension=Rule(
        name="suspension",
        value=3,
        unit="months",
        paragraph="AKL § 40 a",
        source=f"AKL LBK 806/2015 § 40 a stk. 1; {_HANDBOOK}",
    ),
    escalation_threshold=Rule(
        name="escalation_threshold",
        value=2,
        unit="sanctions",
        paragraph="AKL § 40 a",
        source="AKL LBK 806/2015 § 40 a ('gentagne gange'): effective deductions or reductions",
        assumption=True,
    ),
    escalation_lookback=Rule(
        name="escalation_lookback",
        value=12,
        unit="months",
        paragraph="AKL § 40 a",
        source="AKL LBK 806/2015 § 40 a; calendar months up to the day assessed",
        assumption=True,
    ),
    accumulation=Rule(
        name="accumulation",
        paragraph="AKL § 69 r",
        source=f"AKL LBK 806/2015 § 69 r; {_HANDBOOK}: sanctions accumulate across municipalities",
    ),
    permanent_residence_lookback=Rule(
        name="permanent_residence_lookback",
        value=36,
        unit="months",
        paragraph="UDL § 11",
        source="UDL § 11 (as of 2016): no AKL/INL help and 2½ years of ordinary work in the "
        "last 3 years",
    ),
    status_request=Rule(
        name="status_request",
        paragraph="UDL § 11",
        source=f"{_BILL}: the municipality reports participation when Udlændingestyrelsen asks",
    ),
)

_SEEDS_HANDBOOK = "handbook 2015 (Dansk Flygtningehjælp), shared/seeds"
_SEEDS_BILL = "bill remark on the integration contract (2005/06), shared/seeds"

# Revision 2: the second edition of the brief, read against the source texts. Every rule it
# changes or adds quotes the passage it follows.
AKL_2015_INL_2014_R2 = msgspec.structs.replace(
    AKL_2015_INL_2014_R1,
    revision=2,
    follow_up_interval=Rule(
        name="follow_up_interval",
        value=3,
        unit="months",
        paragraph="INL § 20",
        source=f"INL LBK 1094/2014 § 20 stk. 1-2; {_HANDBOOK}: at least every 3 months until "
        "the goals are met, then as needed; 'goals met' is what the latest follow-up (or a later "
        "contract version) says",
    ),
    contact_attempt=Rule(
        name="contact_attempt",
        paragraph="AKL § 35 stk. 2",
        source=f"AKL LBK 806/2015 § 35 stk. 2, § 69 l; {_HANDBOOK}: 'udtømt alle rimelige "
        "muligheder for at komme i personlig kontakt'; met by a reached contact, or attempts "
        "through 2 different channels, from the incident up to the decision",
        value=2,
        unit="channels",
        assumption=True,
    ),
    escalation_threshold=Rule(
        name="escalation_threshold",
        value=2,
        unit="sanctions",
        paragraph="AKL § 40 a",
        source="AKL LBK 806/2015 § 40 a stk. 1 ('gentagne gange'): a new sanctionable incident "
        "with 2 effective deductions or reductions (any municipality, § 69 r) whose incidents "
        "fall in the 12 months before it; an incident already in a suspension's grounds is "
        "answered",
        assumption=True,
    ),
    immigrant_outside_programme=Rule(
        name="immigrant_outside_programme",
        paragraph="INL § 2 stk. 5",
        source="INL LBK 1094/2014 § 2 stk. 5: immigrants are 'ikke omfattet af lovens kap. 3, "
        "4, 5, 6 og 7' (they get the introduction course, INL § 24 c): no contract, programme "
        "or follow-up deadlines",
    ),
    follow_up_interval_ordinary=Rule(
        name="follow_up_interval_ordinary",
        value=12,
        unit="months",
        paragraph="INL § 20",
        source=f"{_SEEDS_HANDBOOK} on INL § 20: 'For udlændinge i ordinær beskæftigelse eller "
        "uddannelse, som ikke modtager kontanthjælp, skal opfølgning mindst ske hver 12 måned'",
    ),
    refused_interview_deduction=Rule(
        name="refused_interview_deduction",
        paragraph="AKL § 37",
        source=f"AKL LBK 806/2015 § 37 ('udeblivelse fra samtaler m.v.'); {_SEEDS_HANDBOOK}: "
        "an interview refused is a deduction for the days until renewed contact, which the "
        "caseworker sets (no amount the ledger can compute); never cessation under § 41",
    ),
    resource_sanctions=Rule(
        name="resource_sanctions",
        paragraph="AKL §§ 69 l–69 r",  # noqa: RUF001 -- the en dash of INTERFACE.md
        source=f"AKL LBK 806/2015 §§ 69 l-69 r; {_SEEDS_HANDBOOK}: sanctions on "
        "ressourceforløbsydelse follow these paragraphs, 'stort set' as for kontanthjælp; "
        "§ 40 a does not apply",
    ),
    suspension_benefits=Rule(
        name="suspension_benefits",
        paragraph="AKL § 40 a",
        source="AKL LBK 806/2015 § 40 a stk. 1: suspension only of help under §§ 22, 23 and 25 "
        "(integrationsydelse, uddannelseshjælp, kontanthjælp), for at most 3 months, with an "
        "open offer given at the same time",
    ),
    status_report=Rule(
        name="status_report",
        paragraph="UDL § 11",
        source=f"{_SEEDS_BILL}: the municipality has 'pligt til at udarbejde en status'; a "
        "request is answered only by StatusReported; late when answered after due_on",
    ),
    full_time_hours=Rule(
        name="full_time_hours",
        value=30,
        unit="hours per week",
        paragraph="UDL § 11",
        source="UDL § 11 (as of 2016): ordinary full-time employment 2½ of the last 3 years; "
        "wage subsidy does not count",
        assumption=True,
    ),
    responsibility_in_valid_time=Rule(
        name="responsibility_in_valid_time",
        paragraph="INL § 4, § 18",
        source="INL LBK 1094/2014 § 4, § 18: a municipality acts only in a period it was "
        "responsible for (the leaving one through the move date, the receiving one from it)",
    ),
    corrections_by_recorder=Rule(
        name="corrections_by_recorder",
        paragraph="INL § 19 stk. 8",
        source=f"{_SEEDS_BILL} ('én kontrakt ... en komplet historik'): a record is corrected "
        "only by whoever made it, also after the person moved; the immigration service "
        "retracts only its own StatusRequested",
    ),
    mandatory_takeover=Rule(
        name="mandatory_takeover",
        paragraph="INL § 18 stk. 2",
        source="INL LBK 1094/2014 § 18 stk. 2: the receiving municipality must approve when "
        "the move matters significantly for integration or special personal reasons apply",
    ),
    before_t0=Rule(
        name="before_t0",
        paragraph="INL § 19 stk. 2",
        source="INL LBK 1094/2014 § 4, § 19 stk. 2: nothing is dated before T0, except a "
        "refugee's contract and declaration, which may be signed before it",
    ),
    status_request_due=Rule(
        name="status_request_due",
        paragraph="UDL § 11",
        source=f"{_SEEDS_BILL}: a status is due after it was asked for, never before",
    ),
    consent_evidence=Rule(
        name="consent_evidence",
        paragraph="INL § 18",
        source=f"{_SEEDS_BILL}: further information 'som udgangspunkt med udlændingens "
        "samtykke': a consent names its evidence, and the access log who recorded it",
    ),
    whole_case_conclusions=Rule(
        name="whole_case_conclusions",
        paragraph="AKL § 69 r",
        source=f"{_SEEDS_BILL}; AKL § 69 r: every conclusion is folded over the whole case, "
        "then values a reader may not see are withheld (never recomputed over part of a case)",
    ),
)

# Oldest law version first; each with its revisions, oldest first. A new law version is a new
# entry; a corrected reading of one is a new revision appended to its tuple.
PACKS: tuple[tuple[RulePack, ...], ...] = ((AKL_2015_INL_2014_R1, AKL_2015_INL_2014_R2),)
LATEST_REVISION = max(pack.revision for revisions in PACKS for pack in revisions)
AKL_2015_INL_2014 = AKL_2015_INL_2014_R2


def check_revision(revision: int | None) -> int:
    """The revision to apply: the latest when none is asked for; an unknown one is refused."""
    if revision is None:
        return LATEST_REVISION
    if not 1 <= revision <= LATEST_REVISION:
        raise InvalidField(
            "rule_revision must be between 1 and {LATEST_REVISION} (the latest), got {revision}",
            "rule_revision",
            LATEST_REVISION=LATEST_REVISION,
            revision=revision,
        )
    return revision


def pack_for(occurred_on: date, revision: int | None = None) -> RulePack:
    """The pack in force on a day, in ``revision`` (the latest by default); days before the
    first pack fall under the first pack."""
    chosen = PACKS[0]
    for revisions in PACKS[1:]:
        if revisions[0].valid_from <= occurred_on:
            chosen = revisions
    wanted = LATEST_REVISION if revision is None else revision
    return next((p for p in reversed(chosen) if p.revision <= wanted), chosen[0])
