"""The words and formats people read: Danish by default, English on request.

Every people-facing text (the web pages, the PDF, the command line's help, tables and messages)
is written in English in the code and templates, marked for gettext, and translated by the
Danish catalogue ``ledger/locale/da/LC_MESSAGES/ledger.po``. The catalogue is read from the
``.po`` source when first used (`Catalogue`), so a fresh clone needs no build step. Dates,
amounts and numbers are formatted by Babel for the language. JSON keys, error codes and
``--json`` output are never translated: they are the interface, not text for people. A sentence
kept in English once said (`Stored`: the access log's legal bases) is read back into its values
so the pages say it in their reader's language.

Babel is imported when a date, amount or number is first formatted, not with this module nor to
read the catalogue: `ledger --help` is said in Danish without it.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from pathlib import Path
from string import Formatter
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import msgspec

Language = Literal["da", "en"]
LANGUAGES: tuple[Language, ...] = ("da", "en")
DEFAULT_LANGUAGE: Language = "da"
DOMAIN = "ledger"
LOCALE_DIR = Path(__file__).parent / "locale"
_LOCALES: dict[Language, str] = {"da": "da_DK", "en": "en_GB"}
TIME_ZONE = "Europe/Copenhagen"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention that marks text for the catalogue
    """Mark ``message`` for the catalogue where it is defined; translate it where shown."""
    return message


@dataclass(frozen=True)
class Phrase:
    """A sentence for people, kept as its English template (marked for the catalogue) and the
    named values it was made with, so that every face can say it in its reader's language.
    ``str()`` is the English sentence: the interface (JSON error bodies, ``--json``) speaks
    English. A value that is itself a ``Phrase`` is said in the same language."""

    template: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        """The English sentence with its values as they are (ISO dates, plain amounts)."""
        if not self.values:
            return self.template
        return self.template.format(**{name: _plain(v) for name, v in self.values.items()})


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return ", ".join(str(_plain(item)) for item in value)
    return str(value) if isinstance(value, Phrase) else value


@dataclass(frozen=True)
class Stored:
    """A sentence the ledger keeps in English once it is said (a legal basis in the access log:
    what is stored is the interface's words), and that a page reads back into its values to
    say it in its reader's language. ``readers`` turn a value's stored text back into what it
    was made from (an ISO date into a date, so it is written as the language writes dates);
    a value without one stays text. The last value may hold anything (parentheses, commas,
    colons: a document's name); every other one ends where the template's next words begin."""

    template: str
    readers: Mapping[str, Callable[[str], object]] = field(default_factory=dict)

    def __call__(self, **values: object) -> Phrase:
        return Phrase(self.template, values)

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The template with each named value a group, the last one greedy."""
        parts = list(Formatter().parse(self.template))
        named = [i for i, (_text, name, _spec, _conversion) in enumerate(parts) if name]
        pattern = ""
        for i, (text, name, _spec, _conversion) in enumerate(parts):
            pattern += re.escape(text)
            if name:
                pattern += f"(?P<{name}>.*)" if i == named[-1] else f"(?P<{name}>.*?)"
        return re.compile(pattern, re.DOTALL)

    def read(self, english: str) -> Phrase | None:
        """The phrase ``english`` is the English of, or None when it is another text (or a
        value's reader refuses its part, or the phrase would not say ``english`` again)."""
        found = self.pattern.fullmatch(english)
        if found is None:
            return None
        try:
            values = {
                name: self.readers.get(name, str)(text) for name, text in found.groupdict().items()
            }
        except ValueError:
            return None
        phrase = self(**values)
        return phrase if str(phrase) == english else None


def read_back(english: str, sentences: Iterable[Stored]) -> Phrase | str:
    """A stored English text as the phrase one of ``sentences`` made it from, else as it is
    (a fixed text, which the catalogue translates whole)."""
    for sentence in sentences:
        phrase = sentence.read(english)
        if phrase is not None:
            return phrase
    return english


_T = TypeVar("_T", bound=msgspec.Struct)


def carry(made: _T, phrase: Phrase) -> _T:
    """``made`` (a struct declared with ``dict=True`` whose English text is ``str(phrase)``)
    with the phrase riding along unencoded, so a face can say the text in its reader's
    language (`carried`); what is encoded stays English."""
    msgspec.structs.force_setattr(made, "phrase", phrase)
    return made


def carried(made: msgspec.Struct, english: str) -> Phrase | str:
    """The phrase `carry` attached to ``made``, else its English text as a catalogue message."""
    phrase = getattr(made, "__dict__", {}).get("phrase")
    return phrase if isinstance(phrase, Phrase) else english


class Catalogue(gettext.NullTranslations):
    """The messages of one language, read straight from its ``.po`` source (msgid, msgstr and
    plural forms; comments skipped): reading it takes a few milliseconds, so even
    ``ledger --help`` can be said in Danish without a build step or Babel's compiler."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self._messages: dict[str, tuple[str, ...]] = {}
        entry: dict[str, str] = {}
        key = ""
        for raw in [*source.splitlines(), 'msgid ""']:  # the last entry ends like any other
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith('"'):
                entry[key] += msgspec.json.decode(line, type=str)
                continue
            key, _, quoted = line.partition(" ")
            if key == "msgid" and entry:
                self._keep(entry)
                entry = {}
            entry[key] = msgspec.json.decode(quoted, type=str)

    def _keep(self, entry: dict[str, str]) -> None:
        forms = tuple(entry[k] for k in ("msgstr", "msgstr[0]", "msgstr[1]") if k in entry)
        if entry.get("msgid") and all(forms):
            self._messages[entry["msgid"]] = forms

    def gettext(self, message: str) -> str:
        return self._messages.get(message, (message,))[0]

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        # Both languages have two forms: one, and everything else (Plural-Forms: n != 1).
        forms = self._messages.get(msgid1, (msgid1, msgid2))
        return forms[n != 1] if len(forms) > 1 else forms[0]


@cache
def translations(language: Language) -> gettext.NullTranslations:
    """The catalogue of ``language`` (English is the source language)."""
    if language == "en":
        return gettext.NullTranslations()
    source = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    return Catalogue(source.read_text(encoding="utf-8"))


def asked_language(text: str | None) -> Language | None:
    """The first of our languages an ``Accept-Language`` header or a ``--lang`` value names,
    or None when it names neither."""
    for part in (text or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return None


def language_of(text: str | None) -> Language:
    """The language an ``Accept-Language`` header or a ``--lang`` value asks for (Danish when
    it names neither of ours)."""
    return asked_language(text) or DEFAULT_LANGUAGE


class Words:
    """Translation and formatting in one language."""

    def __init__(self, language: Language = DEFAULT_LANGUAGE) -> None:
        self.language = language
        self.locale = _LOCALES[language]

    @cached_property
    def translations(self) -> gettext.NullTranslations:
        return translations(self.language)

    def __call__(self, message: str, /, **values: Any) -> str:
        text = self.translations.gettext(message)
        return text.format(**values) if values else text

    def text(self, text: Phrase | str) -> str:
        """``text`` in this language; a plain string is taken as a message of the catalogue."""
        if isinstance(text, str):
            return self(text)
        values = {name: self._value(value) for name, value in text.values.items()}
        return self(text.template, **values)

    def _value(self, value: object) -> object:
        """A value of a phrase as people read it: a phrase said in this language, a tuple as a
        list (``a, b``), a day and an amount as Babel writes them in this language."""
        if isinstance(value, Phrase):
            return self.text(value)
        if isinstance(value, tuple):
            return ", ".join(str(self._value(item)) for item in value)
        if isinstance(value, datetime):
            return self.moment(value)
        if isinstance(value, date):
            return self.date(value)
        if isinstance(value, Decimal):
            from babel.numbers import format_decimal  # noqa: PLC0415 - Babel when first used

            return format_decimal(value, "#,##0.00", locale=self.locale)
        return value

    def plural(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        return self.translations.ngettext(singular, plural, n).format(n=n, **values)

    def date(self, value: str | date | None) -> str:
        """``5. marts 2024``; a dash for no date."""
        if value is None or value == "":
            return DASH
        from babel.dates import format_date  # noqa: PLC0415 - Babel when first used

        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return format_date(day, "long", locale=self.locale)

    def moment(self, value: str | datetime | None) -> str:
        """A timestamp in Danish time, to the second."""
        if value is None or value == "":
            return DASH
        from babel.dates import format_datetime  # noqa: PLC0415 - Babel when first used

        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return format_datetime(moment, "medium", tzinfo=ZoneInfo(TIME_ZONE), locale=self.locale)

    def amount(self, value: str | Decimal | None) -> str:
        """``1.251,68 kr.``; a dash for no amount."""
        if value is None or value == "":
            return DASH
        from babel.numbers import format_currency  # noqa: PLC0415 - Babel when first used

        try:
            return format_currency(Decimal(str(value)), "DKK", locale=self.locale)
        except InvalidOperation:
            return str(value)

    def number(self, value: float | Decimal | None) -> str:
        from babel.numbers import format_decimal  # noqa: PLC0415 - Babel when first used

        return DASH if value is None else format_decimal(value, locale=self.locale)

    def yes_no(self, value: bool | None) -> str:
        return DASH if value is None else self(YES) if value else self(NO)

    def label(self, key: str, labels: Mapping[str, str]) -> str:
        """A JSON key as people read it: its label when the catalogue has one, else the key."""
        return self(labels[key]) if key in labels else key


DASH = "\N{EN DASH}"  # for a value the case does not have (yet); never for a withheld one
YES = N_("yes")
NO = N_("no")


# The projections' keys and keywords as people read them (the JSON keeps the keys).
LABELS: dict[str, str] = {
    # participation, follow-ups, the replay's state
    "offers": N_("offers"),
    "absence_days": N_("days of absence"),
    "absence_days_excused": N_("days of absence, excused"),
    "refusals": N_("refusals"),
    "held": N_("held"),
    "due": N_("due"),
    "overdue": N_("overdue"),
    "next_due_on": N_("next due"),
    "goals_met_on": N_("goals met"),
    "interval_months": N_("interval (months)"),
    "paragraph": N_("paragraph"),
    "applies": N_("applies"),
    "responsible_municipality": N_("responsible municipality"),
    "case_open": N_("case open"),
    "contract_versions": N_("contract versions"),
    "open_offers": N_("open offers"),
    "effective_sanctions": N_("effective sanctions"),
    "escalation_eligible": N_("escalation possible"),
    # sanctions
    "deduction": N_("deduction"),
    "reduction": N_("reduction"),
    "suspension": N_("suspension"),
    "cessation": N_("cessation"),
    "effective": N_("effective"),
    "overturned": N_("overturned"),
    # the fields of a contract that a new version changes
    "contract_id": N_("contract"),
    "employment_goal": N_("employment goal"),
    "weekly_hours": N_("hours a week"),
    "activities": N_("activities"),
    "sanctions_described": N_("sanctions described"),
    # why an incident is not sanctionable
    "no_written_notice": N_("no written notice of the consequences"),
    "no_contact_attempt": N_("no attempt to contact the person"),
    "reasonable_cause": N_("reasonable cause"),
    "no_open_offer": N_("no open offer"),
    "no_benefit": N_("no benefit"),
    # what the law finds missing in an imposed sanction (AKL § 40 a stk. 1)
    "suspension_too_long": N_("suspension over 3 months"),
    "benefit_not_covered": N_("help not under AKL §§ 22, 23, 25"),
    # what a read showed (the access log's actions)
    "status": N_("status report"),
    "history": N_("contract history"),
    "replay": N_("replay"),
    "events": N_("events"),
    "deadlines": N_("deadlines"),
    # person categories, programmes, takeovers
    "refugee": N_("refugee"),
    "family_reunified": N_("family reunified"),
    "immigrant": N_("immigrant"),
    "integration_program": N_("integration programme"),
    "introduction_course": N_("introduction course"),
    "approved": N_("approved"),
    "refused": N_("refused"),
    # worklist items
    "contract": N_("integration contract"),
    "contract_after_move": N_("contract after a move"),
    "program": N_("programme start"),
    "follow_up": N_("follow-up"),
    "status_request": N_("status request"),
    # disclosure categories
    "personal_data": N_("personal data"),
    "responsibility": N_("responsibility"),
    "consent": N_("consent"),
    "consent_to_others": N_("consent to other municipalities"),
    "declaration": N_("declaration"),
    "participation": N_("participation"),
    "danish_tests": N_("Danish tests"),
    "sanctions": N_("sanctions"),
    "readiness": N_("readiness"),
    "contact": N_("contact"),
    "benefits": N_("benefits"),
    "employment": N_("employment"),
    "education": N_("education"),
    "status_requests": N_("status requests"),
    # roles
    "municipality": N_("municipality"),
    "immigration_service": N_("Udlændingestyrelsen"),
    "investigator": N_("investigator"),
    "admin": N_("administrator"),
    "operator": N_("operator"),
    # event types
    "AbsenceRecorded": N_("absence recorded"),
    "BenefitEnded": N_("benefit ended"),
    "BenefitGranted": N_("benefit granted"),
    "ConsentGiven": N_("consent given"),
    "ConsentWithdrawn": N_("consent withdrawn"),
    "ConsequencesNotified": N_("consequences notified"),
    "ContactAttempted": N_("contact attempted"),
    "ContractSigned": N_("contract signed"),
    "DanishTestPassed": N_("Danish test passed"),
    "DeclarationSigned": N_("declaration signed"),
    "EducationEnded": N_("education ended"),
    "EducationStarted": N_("education started"),
    "EmploymentEnded": N_("employment ended"),
    "EmploymentStarted": N_("employment started"),
    "EventRetracted": N_("event retracted"),
    "FollowUpHeld": N_("follow-up held"),
    "MunicipalityMoved": N_("moved municipality"),
    "OfferMade": N_("offer made"),
    "OfferRefused": N_("offer refused"),
    "PermitGranted": N_("permanent residence granted"),
    "ProgramStarted": N_("programme started"),
    "ReadinessAssessed": N_("readiness assessed"),
    "ResponsibilityAssumed": N_("responsibility assumed"),
    "SanctionImposed": N_("sanction imposed"),
    "SanctionOverturned": N_("sanction overturned"),
    "StatusReported": N_("status reported"),
    "StatusRequested": N_("status requested"),
    "TakeoverDecided": N_("takeover decided"),
}
WITHHELD = N_("withheld")
# Why a category is withheld: only those that travel with the person's consent ever are.
NEEDS_CONSENT = N_(
    "shared with this municipality only with the person's consent, which has not been given "
    "(bill remark on the integration contract, 2005/06: further information 'som "
    "udgangspunkt med udlændingens samtykke')"
)
