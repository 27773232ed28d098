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

from ledger.i18n import DASH, LABELS, N_, Words
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
        el("title", escape(title), id="timeline-title"),
        el("desc", escape(_(DESCRIPTION)), id="timeline-desc"),
    ]
    for index, (_key, label, _kinds) in enumerate(ROWS):
        y = ROW_Y + index * ROW_H
        parts.append(el("line", x1=LEFT, x2=WIDTH - RIGHT, y1=y, y2=y, stroke="#c8c8c8"))
        parts.append(el("text", escape(_(label)), x=LEFT - 10, y=y + 4, text_anchor="end"))
    parts.append(el("text", escape(_(RESPONSIBLE)), x=LEFT - 10, y=BAND_Y + 17, text_anchor="end"))
    colours: dict[str, str] = {}
    for period in periods:
        code = period["municipality"]
        colour = colours.setdefault(code, BAND_COLOURS[len(colours) % len(BAND_COLOURS)])
        start = x(date.fromisoformat(period["from"]))
        end = x(date.fromisoformat(period["to"])) if period["to"] else x(last)
        name = f"{code} {municipality_name(code)}"
        during = f"{name}: {_.date(period['from'])} {DASH} {_.date(period['to'])}"
        parts.append(
            el(
                "g",
                el("title", escape(during)),
                el(
                    "rect",
                    x=start,
                    y=BAND_Y,
                    width=max(end - start, 1),
                    height=BAND_H,
                    fill=colour,
                    stroke="#7a8a99",
                ),
                el("text", escape(name), x=start + 6, y=BAND_Y + 17, class_="band-label"),
                class_="band",
                data_municipality=code,
                data_from=period["from"],
                data_to=period["to"] or "",
            )
        )
    bottom = height - 24
    for year in range(first.year, last.year + 2):
        tick = date(year, 1, 1)
        if first <= tick <= last:
            grid = {"x1": x(tick), "x2": x(tick), "y1": BAND_Y + BAND_H + 4, "y2": bottom}
            parts.append(el("line", **grid, stroke="#e6e6e6"))
            at = {"x": x(tick), "y": height - 8, "text_anchor": "middle", "class_": "tick"}
            parts.append(el("text", str(year), **at))
    parts.extend(
        mark(_, entry, x(date.fromisoformat(entry["occurred_on"])), overturned) for entry in entries
    )
    parts.append(
        time_line(
            x(as_of),
            (BAND_Y - 6, bottom),
            _(AS_OF, day=_.date(as_of)),
            BAND_Y - 10,
            ("#1f4e79", "6 3"),
            class_="as-of",
            data_day=as_of.isoformat(),
        )
    )
    if known_at is not None:
        parts.append(
            time_line(
                x(known_at.date()),
                (BAND_Y - 6, bottom),
                _(KNOWN_AT, moment=_.moment(known_at)),
                bottom - 4,
                ("#b35c00", "2 3"),
                class_="known-at",
                data_moment=known_at.isoformat(),
            )
        )
    svg = el(
        "svg",
        *parts,
        xmlns="http://www.w3.org/2000/svg",
        class_="timeline",
        viewBox=f"0 0 {WIDTH} {height}",
        width="100%",
        role="img",
        aria_labelledby="timeline-title timeline-desc",
    )
    return Markup(svg)  # noqa: S704 - el() escapes every attribute; every text is escaped


def time_line(
    at: float,
    span: tuple[float, float],
    label: str,
    label_y: float,
    look: tuple[str, str],
    **attributes: str,
) -> str:
    """A vertical line across the picture at one moment (as of, known at), labelled at its
    left: ``look`` is its colour and dash pattern."""
    colour, dashes = look
    return el(
        "g",
        el(
            "line",
            x1=at,
            x2=at,
            y1=span[0],
            y2=span[1],
            stroke=colour,
            stroke_width=2,
            stroke_dasharray=dashes,
        ),
        el(
            "text",
            escape(label),
            x=at - 4,
            y=label_y,
            text_anchor="end",
            class_="line-label",
        ),
        **attributes,
    )


def mark(_: Words, entry: dict[str, Any], cx: float, overturned: set[str]) -> str:
    """One event's mark on the row of its kind."""
    kind = entry["type"]
    cy = ROW_Y + _row_of(kind) * ROW_H
    css = "mark"
    if kind == "SanctionImposed":
        undone = entry.get("sanction_id") in overturned
        css += " sanction overturned" if undone else " sanction"
        diamond = f"M{cx} {cy - 8} L{cx + 8} {cy} L{cx} {cy + 8} L{cx - 8} {cy} Z"
        shape = el("path", d=diamond, fill="#c0392b", stroke="#7b1d12", stroke_width=1.5)
        if undone:
            cross = {"x1": cx - 9, "y1": cy - 9, "x2": cx + 9, "y2": cy + 9}
            shape += el("line", **cross, stroke="#1e7b34", stroke_width=2.5)
    elif kind == "SanctionOverturned":
        css += " overturn"
        shape = el("circle", cx=cx, cy=cy, r=7, fill="#ffffff", stroke="#1e7b34", stroke_width=3)
    else:
        shape = el("circle", cx=cx, cy=cy, r=5, fill="#2f5d8a", fill_opacity=0.8)
    tip = f"{_.date(entry['occurred_on'])} · {_.label(kind, LABELS)} · #{entry['position']}"
    return el(
        "g",
        el("title", escape(tip)),
        shape,
        class_=css,
        data_type=kind,
        data_position=entry["position"],
        data_occurred_on=entry["occurred_on"],
    )


def el(tag: str, *children: str, **attributes: object) -> str:
    """An SVG element: ``children`` are markup already (escaped text or elements); attribute
    names are written with hyphens (``text_anchor``), ``class_`` as ``class``; values are
    escaped."""
    written = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attributes.items()
    )
    inner = "".join(children)
    return f"<{tag}{written}>{inner}</{tag}>" if inner else f"<{tag}{written}/>"
