"""The event catalogue (DOMAIN.md, "Event catalogue").

Every case action is one frozen msgspec Struct in the past tense. All of them form one tagged
union keyed on ``type`` and are decoded by one typed decoder that refuses unknown fields.
Structural rules (types, ranges, patterns) live in the annotations; rules that need more than
one field or outside data (CPR look-alikes, kommunekoder, the recording day) live in
``check_envelope``. Schema evolution: new fields get defaults, existing fields are never
retyped; a changed meaning bumps the type's ``SCHEMA_VERSION`` and registers an upcaster.
"""

from __future__ import annotations

import json
import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec
import msgspec.inspect as mi

from ledger.clock import check_day
from ledger.errors import (
    CprInField,
    CprInPerson,
    FutureDate,
    InvalidField,
    InvalidJson,
    LedgerError,
    UnknownMunicipality,
    UnknownType,
)
from ledger.i18n import Phrase
from ledger.messages import did_you_mean, explain, malformed, split_path
from ledger.municipalities import is_kommunekode

PersonRef = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Ref = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:/-]{1,64}$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
ShortText = Annotated[str, msgspec.Meta(max_length=64)]
Digest = Annotated[str, msgspec.Meta(pattern=r"^sha256:[0-9a-f]{64}$")]
Evidence = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Hours = Annotated[float, msgspec.Meta(ge=0, le=60)]
Days = Annotated[int, msgspec.Meta(ge=1, le=31)]

ReasonableCause = Literal[
    "illness",
    "child_illness",
    "family_care",
    "childcare_unavailable",
    "health_unsuitable",
    "other_documented",
]
Benefit = Literal[
    "integrationsydelse", "kontanthjaelp", "uddannelseshjaelp", "ressourceforloebsydelse"
]
OfferKind = Literal[
    "guidance_upskilling",
    "company_internship",
    "wage_subsidy",
    "mentor",
    "danish_education",
    "interview",
    "job",
    "other",
]
SanctionKind = Literal["deduction", "reduction", "suspension", "cessation"]

MAX_AMOUNT_DKK = Decimal(10_000_000)


class Personal(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Personal identifiers; stored only encrypted under the person's own key."""

    cpr: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}-?[0-9]{4}$")] | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    birth_date: date | None = None


class Activity(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    activity_id: Ref
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    hours_per_week: Hours


class Event(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    tag_field="type",
    tag=True,
    kw_only=True,
    omit_defaults=True,
):
    """The envelope every event carries."""

    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: UUID
    person: PersonRef
    municipality: Code
    occurred_on: date
    recorded_by: ShortText | None = None

    @property
    def type(self) -> str:
        return type(self).__name__


class ResponsibilityAssumed(Event, frozen=True, kw_only=True):
    """T0: the municipality takes over integration responsibility (INL § 4)."""

    category: Literal["refugee", "family_reunified", "immigrant"]
    residence_basis: Text
    personal: Personal | None = None


class ContractSigned(Event, frozen=True, kw_only=True):
    """INL § 19; a later one for the same person is a new contract version."""

    contract_id: Ref
    employment_goal: Text
    weekly_hours: Hours
    activities: Annotated[list[Activity], msgspec.Meta(max_length=100)]
    sanctions_described: bool
    education_goal: Text | None = None
    set_by_municipality: bool = False


class DeclarationSigned(Event, frozen=True, kw_only=True):
    """INL § 19 stk. 1: declaration on integration and active citizenship."""

    waived_reason: Text | None = None


class ProgramStarted(Event, frozen=True, kw_only=True):
    """INL § 16 stk. 5."""

    kind: Literal["integration_program", "introduction_course"]


class ReadinessAssessed(Event, frozen=True, kw_only=True):
    """AKL § 8 a, LAB § 2."""

    readiness: Literal["job_ready", "activity_ready", "education_ready"]


class BenefitGranted(Event, frozen=True, kw_only=True):
    """AKL §§ 22-25."""

    benefit: Benefit
    monthly_amount_dkk: Decimal


class BenefitEnded(Event, frozen=True, kw_only=True):
    benefit: Benefit


class ConsequencesNotified(Event, frozen=True, kw_only=True):
    """AKL § 35 stk. 1: written notice of the consequences; absent ``regarding`` = all offers."""

    regarding: Ref | None = None


class OfferMade(Event, frozen=True, kw_only=True):
    """INL §§ 21, 23 a-d; LAB."""

    offer_id: Ref
    kind: OfferKind
    starts_on: date
    hours_per_week: Hours | None = None
    open_offer: bool = False


class OfferRefused(Event, frozen=True, kw_only=True):
    """AKL §§ 39, 41."""

    offer_id: Ref
    reasonable_cause: ReasonableCause | None = None


class AbsenceRecorded(Event, frozen=True, kw_only=True):
    """AKL §§ 36-37."""

    offer_id: Ref
    days: Days
    reasonable_cause: ReasonableCause | None = None


class ContactAttempted(Event, frozen=True, kw_only=True):
    """AKL § 35 stk. 2."""

    channel: Literal["phone", "letter", "digital", "home_visit", "in_person"]
    reached: bool


class SanctionImposed(Event, frozen=True, kw_only=True):
    """AKL §§ 36-41."""

    sanction_id: Ref
    kind: SanctionKind
    grounds: Annotated[list[UUID], msgspec.Meta(max_length=100)]
    amount_dkk: Decimal | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class SanctionOverturned(Event, frozen=True, kw_only=True):
    sanction_id: Ref
    by: Literal["ankestyrelsen", "municipality"]


class FollowUpHeld(Event, frozen=True, kw_only=True):
    """INL § 20."""

    mode: Literal["in_person", "phone", "digital"]
    goals_met: bool


class MunicipalityMoved(Event, frozen=True, kw_only=True):
    """The person moves; ``to_municipality`` becomes responsible from this event on."""

    to_municipality: Code


class TakeoverDecided(Event, frozen=True, kw_only=True):
    """INL § 18, § 32: the receiving municipality decides whether the programme continues."""

    approved: bool
    ground: Literal["mandatory", "discretionary"] | None = None


class DanishTestPassed(Event, frozen=True, kw_only=True):
    test: Literal["pd1", "pd2", "pd3"]


class EmploymentStarted(Event, frozen=True, kw_only=True):
    """UDL § 11: ``ordinary`` false means wage subsidy."""

    employment_id: Ref
    ordinary: bool
    hours_per_week: Hours


class EmploymentEnded(Event, frozen=True, kw_only=True):
    employment_id: Ref


class StatusRequested(Event, frozen=True, kw_only=True):
    """Udlændingestyrelsen asks for a status; ``municipality`` names the responsible one."""

    request_id: Ref
    due_on: date


class StatusReported(Event, frozen=True, kw_only=True):
    """The responsible municipality answered a status request with the report of ``digest``
    (bill remark: "pligt til at udarbejde en status"); only this answers a request."""

    request_id: Ref
    digest: Digest


class EducationStarted(Event, frozen=True, kw_only=True):
    """An education begins; an ordinary one without help sets the 12-month follow-up (INL § 20,
    handbook)."""

    education_id: Ref
    ordinary: bool


class EducationEnded(Event, frozen=True, kw_only=True):
    education_id: Ref


class ConsentGiven(Event, frozen=True, kw_only=True):
    """Consent to share beyond the no-consent list; ``evidence`` names the document or signing
    reference (schema 2; schema-1 events had none and are upcast to ``"unrecorded"``)."""

    SCHEMA_VERSION: ClassVar[int] = 2

    recipient: Code
    evidence: Evidence


class ConsentWithdrawn(Event, frozen=True, kw_only=True):
    recipient: Code


class PermitGranted(Event, frozen=True, kw_only=True):
    """Permanent residence; closes the case (INL § 19 stk. 8)."""


class EventRetracted(Event, frozen=True, kw_only=True):
    """An event entered in error; nothing is ever deleted."""

    retracts: UUID
    reason: Text


AnyEvent = (
    ResponsibilityAssumed
    | ContractSigned
    | DeclarationSigned
    | ProgramStarted
    | ReadinessAssessed
    | BenefitGranted
    | BenefitEnded
    | ConsequencesNotified
    | OfferMade
    | OfferRefused
    | AbsenceRecorded
    | ContactAttempted
    | SanctionImposed
    | SanctionOverturned
    | FollowUpHeld
    | MunicipalityMoved
    | TakeoverDecided
    | DanishTestPassed
    | EmploymentStarted
    | EmploymentEnded
    | StatusRequested
    | StatusReported
    | EducationStarted
    | EducationEnded
    | ConsentGiven
    | ConsentWithdrawn
    | PermitGranted
    | EventRetracted
)

EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in AnyEvent.__args__}
INCIDENT_TYPES = (AbsenceRecorded, OfferRefused)

_decoder: msgspec.json.Decoder[AnyEvent] = msgspec.json.Decoder(AnyEvent)
_encoder = msgspec.json.Encoder(decimal_format="string")

# Upcasters turn the stored JSON of (type, version) into the JSON of version + 1.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UNRECORDED_EVIDENCE = "unrecorded"


def _consent_evidence_unrecorded(data: dict[str, Any]) -> dict[str, Any]:
    """ConsentGiven v1 named no evidence; the ledger cannot invent one."""
    return {**data, "evidence": UNRECORDED_EVIDENCE}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("ConsentGiven", 1): _consent_evidence_unrecorded,
}


def encode_event(event: Event) -> bytes:
    """Canonical JSON of an event: fixed field order, no spaces, defaults omitted."""
    return _encoder.encode(event)


# What msgspec raises on bytes that are no JSON: malformed, invalid UTF-8 inside a string, or
# nested deeper than the decoder recurses.
UNDECODABLE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


class _Tagged(msgspec.Struct):
    type: str


_tag_decoder = msgspec.json.Decoder(_Tagged)


def _class_of(raw: bytes | str) -> type[Event] | None:
    """The catalogue type a refused line claims to be, to explain its refusal in its terms."""
    try:
        return EVENT_TYPES.get(_tag_decoder.decode(raw).type)
    except UNDECODABLE:
        return None


def decode_event(raw: bytes | str) -> AnyEvent:
    """Decode one wire event, or raise the typed error that names the offending field."""
    return decode_canonical(raw)[0]


def decode_canonical(raw: bytes | str) -> tuple[AnyEvent, bytes]:
    """Decode one wire event and give its canonical JSON (``encode_event``) with it, or raise
    the typed error that names the offending field. The duplicate-key check needs that JSON
    anyway, and an append stores it, so a line is encoded once."""
    try:
        event = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _validation_error(exc, _class_of(raw)) from None
    except UNDECODABLE as exc:
        raise InvalidJson("not valid JSON: {exc}", exc=malformed(exc)) from None
    canonical = encode_event(event)
    if may_name_a_key_twice(raw, canonical):
        refuse_duplicate_keys(raw)
    return event, canonical


def convert_event(obj: Any) -> AnyEvent:
    """Validate an already-parsed JSON value (an element of a JSON array body)."""
    try:
        event: AnyEvent = msgspec.convert(obj, AnyEvent, strict=True)
    except msgspec.ValidationError as exc:
        name = obj.get("type") if isinstance(obj, dict) else None
        raise _validation_error(
            exc, EVENT_TYPES.get(name) if isinstance(name, str) else None
        ) from None
    return event


def _validation_error(exc: msgspec.ValidationError, cls: type[Event] | None) -> LedgerError:
    path, said = split_path(str(exc))
    message = explain(said, path, cls)
    if path is None and said.startswith("Expected `object`"):
        return InvalidJson("the line is not a JSON object ({said})", said=message)
    if path == "type" and said.startswith("Invalid value"):
        value = said.removeprefix("Invalid value ")
        hint = did_you_mean(value.strip("'"), EVENT_TYPES)
        return UnknownType(
            "type {given} is not in the event catalogue{hint}", "type", given=value, hint=hint
        )
    if path == "type":
        return InvalidField("{said}: every event needs a string `type`", "type", said=message)
    return InvalidField(message, path)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


_pairs = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def refuse_duplicate_keys(raw: bytes | str) -> None:
    """Refuse a JSON text that names a key twice in one object. JSON decoders disagree on which
    of the two wins, so such a text means different things to different readers; msgspec keeps
    the last silently, and the standard library's decoder is the one that reports every pair."""
    try:
        _pairs.decode(raw.decode() if isinstance(raw, bytes) else raw)
    except _DuplicateKey as exc:
        raise InvalidField(
            "the key `{key}` appears more than once in one object; send each key once",
            exc.key,
            key=exc.key,
        ) from None
    except (ValueError, RecursionError):  # UnicodeDecodeError among them
        return  # the text was decoded once already; what refuses it is said there


def may_name_a_key_twice(raw: bytes | str, canonical: bytes) -> bool:
    r"""Whether ``raw``, a text the typed decoder accepted as an event whose canonical encoding
    (``encode_event``) is ``canonical``, could name a key twice in one object: False only when
    it cannot, so the exact check (a second, slower parse) runs only on the texts that need it.
    It costs three counts.

    Why a text with no more colons (and escapes of one, ``\u003a``) than its canonical encoding
    has colons names no key twice:

    - In the text (valid JSON, since it decoded), a colon outside a string follows a key, one
      per key written; every other colon is inside a string. A character of a string is
      written as itself or as an escape, and the only escapes of a colon are ``\u003a`` and
      ``\u003A``. So the text's colons and ``\u003`` are at least the keys it writes plus the
      colons of every string it decodes to.
    - The keys it writes are at least the distinct keys of every object the event keeps, plus
      one for every key written again in one object (a value a repeated key overrode, and
      whatever that value held, only adds to the count).
    - The canonical encoding writes, for every object the event keeps, only fields the text
      gave: a field the text left out holds its default, and every struct of the catalogue
      omits its defaults or has none. It writes each once, with strings as decoded (it never
      escapes a colon), and UUIDs, dates, decimals, numbers and flags without a colon. So its
      colons are its keys, at most the distinct keys given, plus the colons of the strings
      kept, at most the colons of every decoded string.

    Together: a text that names a key twice counts more than its canonical encoding has
    colons. The premises about the catalogue are checked by
    ``tests/unit/test_duplicate_keys.py``; a false "could" (a field sent with its default
    value, say) only costs the exact check.
    """
    text = raw.encode() if isinstance(raw, str) else raw
    return text.count(b":") + text.count(b"\\u003") > canonical.count(b":")


def decode_stored_event(raw: bytes, schema: int, type_name: str) -> AnyEvent:
    """Decode an event as stored, upcasting it first if it was stored under an older schema."""
    cls = EVENT_TYPES.get(type_name)
    if cls is not None and schema == cls.SCHEMA_VERSION:
        return _decoder.decode(raw)
    data = msgspec.json.decode(raw)
    if not isinstance(data, dict):
        raise InvalidJson("stored event is not a JSON object")
    return upcast(data, schema)


def upcast(data: dict[str, Any], schema: int) -> AnyEvent:
    type_name = data.get("type")
    cls = EVENT_TYPES.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise UnknownType("unknown stored event type {type_name!r}", "type", type_name=type_name)
    version = schema
    while version < cls.SCHEMA_VERSION:
        step = UPCASTERS.get((cls.__name__, version))
        if step is None:
            raise InvalidField(
                "no upcaster from {type} v{version}", "type", type=cls.__name__, version=version
            )
        data = step(data)
        version += 1
    return convert_event(data)


# --- Envelope rules that need more than the annotations can say --------------------------------

# A CPR number is DDMMYY and four digits, written with `-`, `.`, `_`, `:`, a space or nothing
# between them; the birth date may itself be written with one of those (01.01.90-1234 is the same
# number as 010190-1234, only spelled as a date). Digits are any decimal digits, so fullwidth or
# Arabic-Indic ones do not slip through; the lookahead makes matches overlap, so a failed
# candidate never hides a real one starting inside it.
_SEP = "[-._: ]"
_CPR_WHOLE = re.compile(rf"\d{{6}}{_SEP}?\d{{4}}")
_CPR_INSIDE = re.compile(
    rf"(?<!\d)(?=(?P<day>\d{{2}})(?P<sep>{_SEP}?)(?P<month>\d{{2}})(?P=sep)\d{{2}}{_SEP}?\d{{4}}(?!\d))"
)
LEAP_YEAR = 2000  # a CPR number's century is not in its date, so 29 February is always real


def _without_invisibles(value: str) -> str:
    """The value without format characters (zero-width spaces and joiners, soft hyphens),
    which display as nothing and could split a number where nobody sees a split."""
    if value.isascii():
        return value
    return "".join(c for c in value if unicodedata.category(c) != "Cf")


@lru_cache(maxsize=1 << 16)
def looks_like_cpr(value: str) -> bool:
    """A whole value of six and four digits, or a CPR number with a real day and month
    anywhere inside a longer value (personal identifiers belong in ``personal``)."""
    value = _without_invisibles(value)
    if _CPR_WHOLE.fullmatch(value):
        return True
    for match in _CPR_INSIDE.finditer(value):
        day, month = int(match.group("day")), int(match.group("month"))
        if 1 <= month <= 12 and 1 <= day <= monthrange(LEAP_YEAR, month)[1]:
            return True
    return False


# Text is printable characters, line breaks and tabs. Other control characters (NUL among them)
# and the bidirectional overrides and isolates, which make a text display other than it is
# stored, are refused wherever a string is accepted.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Fields whose own format decides what they hold (DOMAIN.md, "Case invariants"): kommunekoder and
# digests (a hex digest often holds ten digits in a row); `person` has its own code.
# `event_id`, `retracts`, `grounds` and the dates are no strings once decoded.
OWN_FORMAT = frozenset({"person", "municipality", "to_municipality", "recipient", "digest"})
# Where a CPR number belongs: sealed under the person's own key, and erasable.
SEALED = "personal"


def _check_text(value: str, path: str) -> None:
    bad = _UNPRINTABLE.search(value)
    if bad:
        char = bad.group()
        what = Phrase("a control character")
        if unicodedata.category(char) != "Cc":
            what = Phrase(
                "a bidirectional override, which makes text display other than it is stored"
            )
        raise InvalidField(
            "{path} holds U+{code:04X}, {what}; send printable text",
            path,
            path=path,
            code=ord(char),
            what=what,
        )


FieldKind = Literal["text", "date", "object", "objects"]
_KINDS: dict[type[mi.Type], FieldKind] = {
    mi.StrType: "text",
    mi.DateType: "date",
    mi.StructType: "object",
}


def _kind(info: mi.Type) -> FieldKind | None:
    """How the ingress check reads a field of this type; None for the types that hold no text
    and no date (numbers, flags, UUIDs, and code lists, whose values are fixed)."""
    if isinstance(info, mi.UnionType):
        kinds = {_kind(t) for t in info.types if not isinstance(t, mi.NoneType)}
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(info, mi.ListType):
        return "objects" if isinstance(info.item_type, mi.StructType) else None
    return _KINDS.get(type(info))


@cache
def _fields_to_check(cls: type[msgspec.Struct]) -> tuple[tuple[str, FieldKind], ...]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)  # noqa: S101 - asked only of Struct types
    return tuple(
        (field.name, kind) for field in info.fields if (kind := _kind(field.type)) is not None
    )


def _check_values(value: msgspec.Struct, prefix: str, *, cpr: bool) -> None:
    """Every string (printable, and no CPR number outside ``personal``) and every date (within
    the years the ledger holds) of an event, found from the catalogue's types."""
    for name, kind in _fields_to_check(type(value)):
        item = getattr(value, name)
        if item is None:
            continue
        path = prefix + name
        if kind == "text":
            _check_text(item, path)
            if cpr and name not in OWN_FORMAT and looks_like_cpr(item):
                raise CprInField(
                    "{path} looks like it holds a CPR number; personal identifiers go only in "
                    "`personal`, sealed under the person's own key",
                    path,
                    path=path,
                )
        elif kind == "date":
            check_day(item, path)
        elif kind == "object":
            _check_values(item, f"{path}.", cpr=cpr and name != SEALED)
        else:
            for index, element in enumerate(item):
                _check_values(element, f"{path}[{index}].", cpr=cpr)


def _check_amount(value: Decimal | None, field: str) -> None:
    if value is None:
        return
    if not value.is_finite():
        raise InvalidField(
            "{path} must be a finite amount, got {value}", field, path=field, value=str(value)
        )
    if value < 0:
        raise InvalidField(
            "{path} must be 0 or more, got {value}", field, path=field, value=str(value)
        )
    if value > MAX_AMOUNT_DKK:
        raise InvalidField(
            "{path} must be at most {MAX_AMOUNT_DKK} DKK",
            field,
            path=field,
            MAX_AMOUNT_DKK=MAX_AMOUNT_DKK,
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidField(
            "{path} has more than two decimals (øre): {value}", field, path=field, value=str(value)
        )


def _check_municipality(code: str, field: str) -> None:
    if not is_kommunekode(code):
        raise UnknownMunicipality(
            "{code!r} is not one of the 98 Danish kommunekoder", field, code=code
        )


def check_envelope(event: Event, today: date) -> None:
    """Rules beyond the types: CPR look-alikes, printable text, dates within the years the
    ledger holds, kommunekoder, amounts, the recording day."""
    if looks_like_cpr(event.person):
        raise CprInPerson(
            "person looks like a CPR number; use a pseudonymous reference and put personal "
            "identifiers in `personal`",
            "person",
        )
    _check_values(event, "", cpr=True)
    _check_municipality(event.municipality, "municipality")
    if event.occurred_on > today:
        raise FutureDate(
            "occurred_on {occurred_on} is after the day of recording ({today})",
            "occurred_on",
            occurred_on=event.occurred_on.isoformat(),
            today=today.isoformat(),
        )
    match event:
        case MunicipalityMoved(to_municipality=to):
            _check_municipality(to, "to_municipality")
            if to == event.municipality:
                raise InvalidField(
                    "to_municipality must differ from the municipality the person leaves",
                    "to_municipality",
                )
        case ConsentGiven(recipient=recipient) | ConsentWithdrawn(recipient=recipient):
            _check_municipality(recipient, "recipient")
        case BenefitGranted(monthly_amount_dkk=amount):
            _check_amount(amount, "monthly_amount_dkk")
        case SanctionImposed(amount_dkk=amount, starts_on=starts, ends_on=ends):
            _check_amount(amount, "amount_dkk")
            if starts is not None and ends is not None and ends < starts:
                raise InvalidField("ends_on is before starts_on", "ends_on")
        case ResponsibilityAssumed(personal=Personal(birth_date=born)) if (
            born is not None and born > today
        ):
            raise FutureDate("personal.birth_date is in the future", "personal.birth_date")
        case _:
            pass
