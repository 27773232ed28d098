"""The ledger's one error hierarchy.

Every refusal carries a stable ``code`` (INTERFACE.md, "Errors"), the ``field`` path it concerns
(or None) and a message a caseworker understands. The faces (CLI, HTTP) map these to exit codes
and statuses in one place each; nothing below them knows about either.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from ledger.i18n import N_, Phrase, Words, carried, carry


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=False, dict=True):
    """One refused event, as it travels on the wire (``message`` in English). The words the
    message was made from ride along unencoded, so a face can say it in its reader's language
    (`said`)."""

    line: int | None
    event_id: str | None
    code: str
    field: str | None
    message: str

    @classmethod
    def of(
        cls,
        text: Phrase,
        code: str,
        field: str | None = None,
        line: int | None = None,
        event_id: str | None = None,
    ) -> ErrorDetail:
        made = cls(line=line, event_id=event_id, code=code, field=field, message=str(text))
        return carry(made, text)

    def said(self, words: Words) -> str:
        """The message in the language of ``words``."""
        return words.text(carried(self, self.message))


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""

    code: ClassVar[str] = "ledger_error"

    def __init__(self, message: str | Phrase, field: str | None = None, **values: object) -> None:
        """``message`` is an English template marked for the catalogue (a string literal, or a
        ``Phrase``); ``values`` fill its named fields."""
        self.text = message if isinstance(message, Phrase) else Phrase(message, values)
        self.message = str(self.text)  # English: the interface's words
        super().__init__(self.message)
        self.field = field

    def said(self, words: Words) -> str:
        """The message in the language of ``words``."""
        return words.text(self.text)

    def detail(self, line: int | None = None, event_id: str | None = None) -> ErrorDetail:
        return ErrorDetail.of(self.text, self.code, self.field, line, event_id)


class InvalidJson(LedgerError):
    code = "invalid_json"


class InvalidField(LedgerError):
    code = "invalid_field"


class UnknownType(LedgerError):
    code = "unknown_type"


class UnknownMunicipality(LedgerError):
    code = "unknown_municipality"


class CprInPerson(LedgerError):
    code = "cpr_in_person"


class CprInField(LedgerError):
    """A string field other than ``person`` holds something that looks like a CPR number."""

    code = "cpr_in_field"


class FutureDate(LedgerError):
    code = "future_date"


class DuplicateConflict(LedgerError):
    code = "duplicate_conflict"


class CaseNotOpen(LedgerError):
    code = "case_not_open"


class CaseAlreadyOpen(LedgerError):
    code = "case_already_open"


class NotResponsible(LedgerError):
    code = "not_responsible"


class RuleViolation(LedgerError):
    """The event breaks a legal limit the ledger enforces at append; the message names the
    paragraph."""

    code = "rule_violation"


class UnknownOffer(LedgerError):
    code = "unknown_offer"


class UnknownSanction(LedgerError):
    code = "unknown_sanction"


class UnknownEvent(LedgerError):
    code = "unknown_event"


class CaseClosed(LedgerError):
    code = "case_closed"


class CaseTooLong(LedgerError):
    """The case already holds as many events as a case may (``LEDGER_MAX_CASE_EVENTS``)."""

    code = "case_too_long"


class Forbidden(LedgerError):
    code = "forbidden"


class UnknownPerson(LedgerError):
    """A read names a person the ledger holds no events for."""

    code = "unknown_person"


NO_CASE = N_("the ledger holds no case for person '{person}'")


class ConcurrentWrites(LedgerError):
    """Other writers kept winning the same streams for longer than the bounded retry allows."""

    code = "concurrent_writes"


class StoreError(LedgerError):
    """The store could not be opened or used (bad URL, unreachable server, not a ledger)."""

    code = "store_error"


class StoreUnavailable(StoreError):
    """The store did not answer (a database server down or restarting, a lock held too long):
    nothing was done, and the same request may succeed later."""

    code = "store_unavailable"
    retry_after_s: ClassVar[int] = 5


class StoreTooNew(StoreError):
    """The store records a schema migration this release does not know: a newer release of the
    ledger migrated it, and this one must not read or write it."""

    code = "store_too_new"


class CannotWrite(StoreError):
    """The disk refused a write (full, over quota, or failing): what was written before stands,
    nothing of the failed write does."""

    code = "cannot_write"


class IntegrityFailure(LedgerError):
    """The store fails its integrity checks, so what was asked cannot be done safely."""

    code = "integrity_failure"


class BatchRefused(LedgerError):
    """A batch with at least one refused event; nothing of it was stored."""

    code = "batch_refused"

    def __init__(self, errors: list[ErrorDetail]) -> None:
        super().__init__("{refused} event(s) refused; nothing was stored", refused=len(errors))
        self.errors = errors

    @property
    def is_conflict_only(self) -> bool:
        return all(e.code == DuplicateConflict.code for e in self.errors)


# The codes of INTERFACE.md's "Errors" table that an appended event can be refused with
# (`forbidden` comes only from the HTTP face, which knows the caller).
WIRE_CODES = frozenset(
    cls.code
    for cls in (
        InvalidJson,
        InvalidField,
        UnknownType,
        UnknownMunicipality,
        CprInPerson,
        CprInField,
        FutureDate,
        DuplicateConflict,
        CaseNotOpen,
        CaseAlreadyOpen,
        NotResponsible,
        RuleViolation,
        UnknownOffer,
        UnknownSanction,
        UnknownEvent,
        CaseClosed,
    )
)
