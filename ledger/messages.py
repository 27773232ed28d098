"""Refusals in words a caseworker system can act on.

The decoder (msgspec) says what went wrong in its own terms: ``Expected `int`, got `str` ``,
``Invalid enum value 'sick'``, ``Invalid RFC3339 encoded date``. This module turns such a
message, with the field path it concerns and the type that was being decoded, into a sentence
that names what is expected: the allowed values of a code list, the field meant by a near-miss
name, a whole number rather than an ``int``. It knows nothing of HTTP or the command line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache

import msgspec
import msgspec.inspect as mi

from ledger.i18n import N_, Phrase

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<name>[^`]+)`$")
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]+)`(?:, got `(?P<got>[^`]+)`)?(?P<rest>.*)$")
_BOUND = re.compile(r"^ (?P<op>[<>]=?) (?P<limit>\S+)$")
_LENGTH = re.compile(r"^ of length (?P<op>[<>]=?) (?P<limit>\d+)$")
_REGEX = re.compile(r"^ matching regex '(?P<pattern>.*)'$")
_CHARACTERS = re.compile(r"^\^\[(?P<chars>[^\]]+)\]\{(?P<low>\d+),(?P<high>\d+)\}\$$")
_ENUM = re.compile(r"^Invalid enum value (?P<value>.*)$")
_MALFORMED = re.compile(r"^JSON is malformed: (?P<what>.*) \(byte (?P<byte>\d+)\)$")
_SEGMENT = re.compile(r"[^.\[\]0-9][^.\[\]]*")  # field names of a path, not list indexes

NOUNS = {
    "int": N_("a whole number"),
    "float": N_("a number"),
    "decimal": N_("a decimal amount"),
    "str": N_("a string"),
    "bool": N_("true or false"),
    "null": N_("null"),
    "array": N_("a list"),
    "object": N_("an object"),
    "uuid": N_("a UUID"),
    "date": N_("a date (YYYY-MM-DD)"),
    "datetime": N_("a timestamp"),
}
INVALID = {
    "Invalid RFC3339 encoded date": N_("not a calendar date (YYYY-MM-DD)"),
    "Invalid RFC3339 encoded datetime": N_("not a timestamp (ISO 8601 with an offset)"),
    "Invalid UUID": N_("not a UUID (like 6b0c8f8e-3e0f-4c55-9d55-2f1f0a6c1a01)"),
    "Invalid decimal string": N_('not a decimal amount (like "1234.50")'),
}
_COMPARISONS = {
    "<=": N_("must be at most {limit}"),
    "<": N_("must be less than {limit}"),
    ">=": N_("must be at least {limit}"),
    ">": N_("must be more than {limit}"),
}
_LENGTHS = {
    "<=": N_("must be at most {limit} {unit}"),
    "<": N_("must be less than {limit} {unit}"),
    ">=": N_("must be at least {limit} {unit}"),
    ">": N_("must be more than {limit} {unit}"),
}


# The decoder's words for JSON that does not parse, kept as it says them (the interface pins
# them) and marked so that people read them in their language.
TRUNCATED = N_("Input data was truncated")
MALFORMED = {
    "object keys must be strings": N_("object keys must be strings"),
    "trailing characters": N_("trailing characters"),
    "trailing comma in array": N_("trailing comma in array"),
    "trailing comma in object": N_("trailing comma in object"),
    "invalid character": N_("invalid character"),
    "invalid escape character in string": N_("invalid escape character in string"),
    "expected ':'": N_("expected ':'"),
    "expected ',' or ']'": N_("expected ',' or ']'"),
    "expected ',' or '}'": N_("expected ',' or '}'"),
}


def malformed(exc: Exception) -> Phrase | str:
    """The decoder's reason that a text is not JSON, marked for the catalogue when it is one
    of the reasons above (a reason the decoder words otherwise is shown as it comes)."""
    said = str(exc)
    if said == TRUNCATED:
        return Phrase(TRUNCATED)
    match = _MALFORMED.match(said)
    if match and match.group("what") in MALFORMED:
        what = Phrase(MALFORMED[match.group("what")])
        return Phrase(
            "JSON is malformed: {what} (byte {byte})", {"what": what, "byte": match.group("byte")}
        )
    return said


def split_path(message: str) -> tuple[str | None, str]:
    """msgspec's message without its ``- at `$.a[2].b``` suffix, and that path as ``a[2].b``;
    a missing or unknown field's name is part of the path."""
    path = None
    match = _AT.search(message)
    if match:
        path = match.group("path").lstrip(".") or None
        message = message[: match.start()]
    named = _NAMED.match(message)
    if named:
        name = named.group("name")
        path = f"{path}.{name}" if path else name
    return path, message


def explain(message: str, path: str | None, decoded: type | None) -> Phrase:
    """The sentence for a refusal at ``path`` of a value decoded as ``decoded`` (None when
    not known, e.g. the ``type`` of an event is itself what is wrong)."""
    if message in INVALID:
        return Phrase(INVALID[message])
    named = _NAMED.match(message)
    if named:
        name = named.group("name")
        if named.group("what") == "missing required":
            return Phrase("missing required field `{name}`", {"name": name})
        hint = did_you_mean(name, _fields_beside(decoded, path))
        return Phrase("unknown field `{name}`{hint}", {"name": name, "hint": hint})
    enum = _ENUM.match(message)
    if enum:
        allowed = _allowed_values(decoded, path)
        if allowed:
            return Phrase(
                "{value} is not an allowed value; must be one of: {allowed}",
                {"value": enum.group("value"), "allowed": ", ".join(allowed)},
            )
        return Phrase("{value} is not an allowed value", {"value": enum.group("value")})
    expected = _EXPECTED.match(message)
    if expected:
        return _expected(expected.group("want"), expected.group("got"), expected.group("rest"))
    return Phrase(message)


def _noun(name: str) -> Phrase | str:
    """The nouns of a union of types (``a whole number or null``)."""
    parts = [Phrase(NOUNS[part]) if part in NOUNS else f"`{part}`" for part in name.split(" | ")]
    noun: Phrase | str = parts[0]
    for part in parts[1:]:
        noun = Phrase("{one} or {other}", {"one": noun, "other": part})
    return noun


def _expected(want: str, got: str | None, rest: str) -> Phrase:
    if got is not None:
        return Phrase("expected {want}, got {got}", {"want": _noun(want), "got": _noun(got)})
    bound = _BOUND.match(rest)
    if bound:
        limit = bound.group("limit").removesuffix(".0")
        return Phrase(_COMPARISONS[bound.group("op")], {"limit": limit})
    length = _LENGTH.match(rest)
    if length:
        op, limit = length.group("op"), length.group("limit")
        if (op, limit) == (">=", "1"):
            return Phrase("must not be empty")
        unit = Phrase("items") if want == "array" else Phrase("characters long")
        return Phrase(_LENGTHS[op], {"limit": limit, "unit": unit})
    regex = _REGEX.match(rest)
    if regex:
        pattern = regex.group("pattern")
        characters = _CHARACTERS.match(pattern)
        if characters:
            low, high, chars = characters.group("low", "high", "chars")
            return Phrase(
                "must be {low} to {high} characters, each one of: {characters}",
                {"low": low, "high": high, "characters": _character_class(chars)},
            )
        return Phrase("must match the pattern {pattern}", {"pattern": pattern})
    return Phrase("expected {want}{rest}", {"want": _noun(want), "rest": rest})


def _character_class(chars: str) -> str:
    ranges = re.findall(r".-.(?=.)|.", chars)
    return " ".join(ranges)


def did_you_mean(name: str, names: Iterable[str]) -> Phrase | str:
    """``; did you mean `x`?`` for the one of ``names`` that ``name`` nearly spells, or ``""``."""
    known = tuple(names)

    def folded(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "")

    same = [candidate for candidate in known if folded(candidate) == folded(name)]
    close = same or difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return Phrase("; did you mean `{name}`?", {"name": close[0]}) if close else ""


def _unwrap(info: mi.Type) -> mi.Type:
    while True:
        if isinstance(info, mi.UnionType):
            rest = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(rest) != 1:
                return info
            info = rest[0]
        elif isinstance(info, mi.ListType):
            info = info.item_type
        else:
            return info


@cache
def _type_info(decoded: type) -> mi.Type:
    return mi.type_info(decoded)


def _type_at(decoded: type | None, segments: list[str]) -> mi.Type | None:
    if decoded is None:
        return None
    info: mi.Type = _type_info(decoded)
    for name in segments:
        info = _unwrap(info)
        if not isinstance(info, mi.StructType):
            return None
        field = next((f for f in info.fields if f.encode_name == name), None)
        if field is None:
            return None
        info = field.type
    return info


def _fields_beside(decoded: type | None, path: str | None) -> tuple[str, ...]:
    """The field names of the object that holds the last segment of ``path``."""
    segments = _SEGMENT.findall(path or "")
    holder = _type_at(decoded, segments[:-1])
    holder = _unwrap(holder) if holder is not None else None
    if not isinstance(holder, mi.StructType):
        return ()
    return tuple(f.encode_name for f in holder.fields)


def _allowed_values(decoded: type | None, path: str | None) -> tuple[str, ...]:
    info = _type_at(decoded, _SEGMENT.findall(path or ""))
    info = _unwrap(info) if info is not None else None
    if isinstance(info, mi.LiteralType):
        return tuple(str(value) for value in info.values)
    return ()


def refusal(exc: msgspec.ValidationError, decoded: type | None) -> tuple[str | None, Phrase]:
    """The field path and the sentence for a ValidationError raised decoding ``decoded``."""
    path, message = split_path(str(exc))
    return path, explain(message, path, decoded)
