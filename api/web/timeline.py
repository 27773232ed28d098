"""The investigator's timeline picture: an SVG made on the server from the history and
sanctions projections (nothing is folded here).

Municipality periods are bands along the top; each event is a mark on the row of its kind, at
the day it occurred, with its position and type in ``data-`` attributes and a ``<title>``;
sanctions are red, overturned ones and their overturns are marked so; the as-of day (valid
time) and the known-at moment (transaction time) are vertical lines.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

from ledger.i18n import LABELS, N_, Words
from ledger.municipalities import municipality_name

ROWS: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "case",
        N_("Case"),
        frozenset(
            {
                "ResponsibilityAssumed",
                "MunicipalityMoved",
                "TakeoverDecided",
                "PermitGranted",
                "ConsentGiven",
                "ConsentWithdrawn",
                "BenefitGranted",
                "BenefitEnded",
                "ReadinessAssessed",
            }
        ),
    ),
    (
        "contract",
        N_("Contract and programme"),
        frozenset(
            {
                "ContractSigned",
                "DeclarationSigned",
                "ProgramStarted",
                "ConsequencesNotified",
                "FollowUpHeld",
            }
        ),
    ),
    (
        "participation",
        N_("Participation"),
        frozenset(
            {
                "OfferMade",
                "OfferRefused",
                "AbsenceRecorded",
                "ContactAttempted",
                "EducationStarted",
                "EducationEnded",
                "EmploymentStarted",
                "EmploymentEnded",
                "DanishTestPassed",
            }
        ),
    ),
    ("sanctions", N_("Sanctions"), frozenset({"SanctionImposed", "SanctionOverturned"})),
    ("status", N_("Status and corrections"), frozenset()),  # everything else
)
DESCRIPTION = N_(
    "Municipality periods as bands, events as marks by kind, the as-of day and the known-at "
    "moment as lines. The same events are listed in the replay below."
)
RESPONSIBLE = N_("Responsible")
AS_OF = N_("as of {day}")
KNOWN_AT = N_("known at {moment}")
WIDTH = 960
LEFT = 170  # room for the row labels
RIGHT = 20
BAND_Y = 28
BAND_H = 26
ROW_Y = 84
ROW_H = 34
BAND_COLOURS = ("#dbe7f3", "#f3e6cf", "#dcefdc", "#eddcef", "#f3dada", "#e4e4e4")


def _row_of(kind: str) -> int:
    for index, (_key, _label, kinds) in enumerate(ROWS):
        if kind in kinds:
            return index
    return len(ROWS) - 1


def timeline(_: Words, history: dict[str, Any], sanctions: dict[str, Any]) -> Markup:
    entries = [entry for entry in history.get("entries") or [] if entry is not None]
    periods = history.get("municipalities") or []
    as_of = date.fromisoformat(history["as_of"])
    known_at = datetime.fromisoformat(history["known_at"]) if history.get("known_at") else None
    overturned = {
        s["sanction_id"]
        for s in sanctions.get("sanctions") or []
        if s.get("status") == "overturned"
    }
    days = [date.fromisoformat(e["occurred_on"]) for e in entries]
    days += [date.fromisoformat(p["from"]) for p in periods]
    days += [as_of] + ([known_at.date()] if known_at else [])
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    height = ROW_Y + ROW_H * len(ROWS) + 30

    def x(day: date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / span, 1)

    title = _("Timeline of case {person}", person=history["person"])
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="timeline-title timeline-desc">',
        f'<title id="timeline-title">{escape(title)}</title>',
        f'<desc id="timeline-desc">{escape(_(DESCRIPTION))}</desc>',
    ]
    for index, (_key, label, _kinds) in enumerate(ROWS):
        y = ROW_Y + index * ROW_H
        parts.append(
            f'<line class="row" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" '
            'stroke="#c8c8c8" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 10}" y="{y + 4}" text-anchor="end" class="row-label">'
            f"{escape(_(label))}</text>"
        )
    parts.append(
        f'<text x="{LEFT - 10}" y="{BAND_Y + 17}" text-anchor="end" class="row-label">'
        f"{escape(_(RESPONSIBLE))}</text>"
    )
    colours: dict[str, str] = {}
    for period in periods:
        code = period["municipality"]
        colour = colours.setdefault(code, BAND_COLOURS[len(colours) % len(BAND_COLOURS)])
        start = x(date.fromisoformat(period["from"]))
        end = x(date.fromisoformat(period["to"])) if period["to"] else x(last)
        name = f"{code} {municipality_name(code)}"
        parts.append(
            f'<g class="band" data-municipality="{escape(code)}" data-from="{period["from"]}" '
            f'data-to="{period["to"] or ""}"><title>{escape(name)}: {escape(_.date(period["from"]))}'
            f" – {escape(_.date(period['to']))}</title>"
            f'<rect x="{start}" y="{BAND_Y}" width="{max(end - start, 1)}" height="{BAND_H}" '
            f'fill="{colour}" stroke="#7a8a99" stroke-width="1"/>'
            f'<text x="{start + 6}" y="{BAND_Y + 17}" class="band-label">{escape(name)}</text></g>'
        )
    for year in range(first.year, last.year + 2):
        tick = date(year, 1, 1)
        if first <= tick <= last:
            parts.append(
                f'<line x1="{x(tick)}" x2="{x(tick)}" y1="{BAND_Y + BAND_H + 4}" y2="{height - 24}" '
                'stroke="#e6e6e6" stroke-width="1"/>'
                f'<text x="{x(tick)}" y="{height - 8}" text-anchor="middle" class="tick">{year}</text>'
            )
    for entry, occurred in zip(
        entries, (date.fromisoformat(e["occurred_on"]) for e in entries), strict=True
    ):
        kind = entry["type"]
        cx, cy = x(occurred), ROW_Y + _row_of(kind) * ROW_H
        css = "mark"
        if kind == "SanctionImposed":
            css += " sanction" + (" overturned" if entry.get("sanction_id") in overturned else "")
        elif kind == "SanctionOverturned":
            css += " overturn"
        tip = f"{_.date(occurred)} · {_.label(kind, LABELS)} · #{entry['position']}"
        if kind == "SanctionImposed":
            shape = (
                f'<path d="M{cx} {cy - 8} L{cx + 8} {cy} L{cx} {cy + 8} L{cx - 8} {cy} Z" '
                'fill="#c0392b" stroke="#7b1d12" stroke-width="1.5"/>'
            )
            if "overturned" in css:
                shape += (
                    f'<line x1="{cx - 9}" y1="{cy - 9}" x2="{cx + 9}" y2="{cy + 9}" '
                    'stroke="#1e7b34" stroke-width="2.5"/>'
                )
        elif kind == "SanctionOverturned":
            shape = f'<circle cx="{cx}" cy="{cy}" r="7" fill="#ffffff" stroke="#1e7b34" stroke-width="3"/>'
        else:
            shape = f'<circle cx="{cx}" cy="{cy}" r="5" fill="#2f5d8a" fill-opacity="0.8"/>'
        parts.append(
            f'<g class="{css}" data-type="{escape(kind)}" data-position="{entry["position"]}" '
            f'data-occurred-on="{entry["occurred_on"]}"><title>{escape(tip)}</title>{shape}</g>'
        )
    bottom = height - 24
    parts.append(
        f'<g class="as-of" data-day="{as_of.isoformat()}"><line x1="{x(as_of)}" x2="{x(as_of)}" '
        f'y1="{BAND_Y - 6}" y2="{bottom}" stroke="#1f4e79" stroke-width="2" stroke-dasharray="6 3"/>'
        f'<text x="{x(as_of) - 4}" y="{BAND_Y - 10}" text-anchor="end" class="line-label">'
        f"{escape(_(AS_OF, day=_.date(as_of)))}</text></g>"
    )
    if known_at is not None:
        kx = x(known_at.date())
        parts.append(
            f'<g class="known-at" data-moment="{known_at.isoformat()}"><line x1="{kx}" x2="{kx}" '
            f'y1="{BAND_Y - 6}" y2="{bottom}" stroke="#b35c00" stroke-width="2" stroke-dasharray="2 3"/>'
            f'<text x="{kx - 4}" y="{bottom - 4}" text-anchor="end" class="line-label known">'
            f"{escape(_(KNOWN_AT, moment=_.moment(known_at)))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number
