"""Rule packs: every legal number the ledger applies, with its paragraph and source.

A rule pack is one version of the law as the ledger applies it (DOMAIN.md, "Rule packs"). Each
``Rule`` carries the paragraph that output applying it names, where the number comes from, and
whether the sources leave it open (``assumption``: the project's documented choice). Packs are
data: a later law change is a new ``RulePack`` appended to ``PACKS``, chosen by ``pack_for`` from
the date the rule is applied to, never an edit of an existing pack.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

Unit = Literal["months", "hours per week", "working days per year", "daily rates", "sanctions"]

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
    """The rules in force from ``valid_from`` until the next pack's ``valid_from``."""

    id: str
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

    def rule(self, name: str) -> Rule:
        """A rule by its name, as output that applied it names it."""
        found = getattr(self, name, None)
        if not isinstance(found, Rule):
            raise KeyError(f"rule pack {self.id} has no rule {name!r}")
        return found


AKL_2015_INL_2014 = RulePack(
    id="akl-2015/inl-2014",
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

# Oldest first. A new law version is a new pack appended here.
PACKS: tuple[RulePack, ...] = (AKL_2015_INL_2014,)


def pack_for(occurred_on: date) -> RulePack:
    """The pack in force on a day; days before the first pack fall under the first pack."""
    chosen = PACKS[0]
    for pack in PACKS[1:]:
        if pack.valid_from <= occurred_on:
            chosen = pack
    return chosen
