"""The patient's printable page for a planned course, as Markdown or self-contained A4 HTML."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from meso_cli.models import CareItem, Dataset, KeyDates, Patient, Plan, Protocol
from meso_cli.planning import care_items

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CITATION = re.compile(r"\s*\((?:\d{3}(?:[,;] ?)?)+\)")

STOP_NSAIDS = "stop-nsaids"
SUN = "sun"
SIDE_EFFECTS = "side-effects"
CALL = "call-clinic"


def _nth(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"the {n}{suffix}"


def _ahead(key: KeyDates) -> str:
    if key.stop_nsaids_by is None or key.first_session is None:
        return "before"
    n = (key.first_session - key.stop_nsaids_by).days
    return "a week before" if n == 7 else f"{n} days before"


def day(d: date) -> str:
    """`Fri 27 Nov 2026`: the weekday spelt out, no locale, no ambiguity between D/M and M/D."""
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


@dataclass
class Row:
    number: int
    when: str
    part: str
    care_until: str
    done: bool


@dataclass
class Handout:
    """What the page says, in order; both renderers lay out the same content."""

    title: str
    for_whom: str
    key_dates: list[tuple[str, str]]
    rows: list[Row]
    session_note: str
    before: list[str]
    after_each: list[str]
    expect: list[str]
    sun: str
    sun_clash: list[str]
    call: list[str]
    results: str
    clinic: str
    footer: str
    care_column: bool = field(default=False)


def _plain(text: str) -> str:
    """Data text without the seed citations, which mean nothing to a patient."""
    return " ".join(_CITATION.sub("", text).split())


def _lasting(item: CareItem) -> str:
    """The item's text, with how long it lasts after each session unless the text says so."""
    text = _plain(item.text)
    n, unit = (
        (item.hours_after_each, "hour")
        if item.hours_after_each
        else (
            item.days_after_each,
            "day",
        )
    )
    if not n or re.search(rf"\b{n}\s+{unit}", text):
        return text
    return f"{text.rstrip('.')} — for {n} {unit}{'s' if n != 1 else ''} after each session."


def build(
    plan: Plan,
    patient: Patient,
    protocol: Protocol,
    data: Dataset,
    *,
    clinic_name: str | None = None,
    clinic_phone: str | None = None,
) -> Handout:
    """The handout of a plan that has sessions (the caller checks that a plan was made)."""
    key = plan.key_dates
    precare = care_items(protocol, [*data.common_precare, *protocol.precare])
    aftercare = care_items(protocol, [*data.common_aftercare, *protocol.aftercare])
    phase_names = {p.id: p.name for p in protocol.phases}
    each_days = max((c.days_after_each or 0 for c in aftercare), default=0)
    rows = [
        Row(
            s.number,
            day(s.date),
            phase_names.get(s.phase, s.phase),
            day(s.date + timedelta(days=each_days)) if each_days and not s.done else "",
            s.done,
        )
        for s in plan.sessions
    ]
    dates: list[tuple[str, str]] = []
    if key.stop_nsaids_by:
        dates.append(("Last day for anti-inflammatory painkillers", day(key.stop_nsaids_by)))
    if key.first_session:
        dates.append(("First session", day(key.first_session)))
    if key.last_session:
        dates.append(("Last session", day(key.last_session)))
    if key.sun_avoid_until:
        dates.append(("No sun or solarium until", day(key.sun_avoid_until)))

    before: list[str] = []
    for item in precare:
        if item.id == STOP_NSAIDS and key.stop_nsaids_by:
            before.append(
                f"Take no anti-inflammatory painkillers (NSAIDs: aspirin, ibuprofen, naproxen "
                f"and the like) after {day(key.stop_nsaids_by)}, {_ahead(key)} your first "
                "session: they make bruising and bleeding more likely. Never stop a medicine "
                "your doctor prescribed to thin the blood without asking that doctor."
            )
        elif item.id != STOP_NSAIDS:
            before.append(_plain(item.text))
    if not protocol.injects:
        before.append("Nothing is injected in this treatment.")

    expect = [_lasting(c) for c in aftercare if c.id == SIDE_EFFECTS]
    after_each = [_lasting(c) for c in aftercare if c.id not in (SIDE_EFFECTS, CALL, SUN)]
    call = [_plain(c.text) for c in aftercare if c.id == CALL]
    call.append(
        "Call before a session if you have a fever or an infection, start a new "
        "medicine, or become pregnant: the session may have to wait."
    )

    sun = ""
    clash: list[str] = []
    if key.sun_avoid_until and key.first_session:
        first = plan.sessions[0].date
        sun_days = (key.sun_avoid_until - (key.last_session or first)).days
        sun = (
            f"No sunbathing and no solarium from your first session until "
            f"{day(key.sun_avoid_until)}, {_nth(sun_days)} day after your last session."
        )
        for p in patient.sun_exposure:
            if p.start <= key.sun_avoid_until and p.end >= first:
                clash.append(
                    f"Your planned sun holiday from {day(p.start)} to {day(p.end)} falls in "
                    "this time: please talk to us about it."
                )
    minutes = (
        f" Each session takes about {protocol.session_minutes} minutes."
        if (protocol.session_minutes)
        else ""
    )
    done = sum(1 for s in plan.sessions if s.done)
    note = f"{len(plan.sessions)} sessions" + (f", {done} already done" if done else "") + "."
    who = [
        f"Patient {patient.id}" if patient.id else "",
        f"prepared {day(plan.screening.reference_date)}",
    ]
    clinic = " · ".join(x for x in (clinic_name, clinic_phone and f"Phone {clinic_phone}") if x)
    return Handout(
        title=f"Your mesotherapy course: {protocol.name}",
        for_whom=", ".join(w for w in who if w),
        key_dates=dates,
        rows=rows,
        session_note=note + minutes,
        before=before,
        after_each=after_each,
        expect=expect,
        sun=sun,
        sun_clash=clash,
        call=call,
        results=_plain(protocol.results),
        clinic=clinic,
        footer=(
            f"Planned with meso {plan.meso_version}, clinical data "
            f"{plan.screening.data_version[:12]}. Dates may move if a session is missed: "
            "the clinic will tell you."
        ),
        care_column=each_days > 0,
    )


# --- Markdown ------------------------------------------------------------------------------


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _md(text: str) -> str:
    """Text typed by the clinic (an id, a clinic name), as literal text in Markdown: no tag
    or link in it is rendered by whatever turns the page into HTML."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def to_markdown(h: Handout) -> str:
    out = [f"# {h.title}", ""]
    if h.clinic:
        out += [f"**{_md(h.clinic)}**", ""]
    out += [f"_{_md(h.for_whom)}_", "", "## Key dates", ""]
    out += [f"- **{label}:** {when}" for label, when in h.key_dates]
    out += ["", "## Your sessions", "", h.session_note, ""]
    head = ["No.", "Date", "Part of the course"] + (["Aftercare until"] if h.care_column else [])
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in h.rows:
        cells = [str(r.number), r.when + (" (done)" if r.done else ""), r.part]
        if h.care_column:
            cells.append(r.care_until)
        out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    for heading, items in (
        ("Before your first session", h.before),
        ("What to expect after each session", h.expect),
        ("After each session", h.after_each),
    ):
        if items:
            out += ["", f"## {heading}", ""] + [f"- {i}" for i in items]
    if h.sun:
        out += ["", "## Sun and solarium", "", f"**{h.sun}**"]
        out += [f"\n> {c}" for c in h.sun_clash]
    out += ["", "## When to call the clinic", ""] + [f"- {c}" for c in h.call]
    if h.clinic:
        out += ["", _md(h.clinic)]
    out += ["", "## Results", "", h.results, "", "---", "", f"_{h.footer}_", ""]
    return "\n".join(out)


# --- HTML ----------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 12mm 15mm; }
* { box-sizing: border-box; }
html { background: #fff; }
body { font: 10pt/1.35 "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: #111;
       max-width: 178mm; margin: 0 auto; padding: 8mm 0; }
@media print { body { padding: 0; } }
h1 { font-size: 17pt; margin: 0 0 2pt; }
h2 { font-size: 11.5pt; margin: 9pt 0 3pt; border-bottom: 1.5pt solid #111; padding-bottom: 1pt;
     break-after: avoid; }
p, ul { margin: 0 0 5pt; }
ul { padding-left: 15pt; }
li { margin-bottom: 1pt; break-inside: avoid; }
.who { color: #444; margin-bottom: 8pt; }
.clinic { font-weight: bold; }
dl.keys { display: grid; grid-template-columns: auto 1fr; gap: 2pt 12pt; margin: 0 0 4pt;
          padding: 6pt 9pt; border: 1.5pt solid #111; }
dl.keys dt { font-weight: bold; } dl.keys dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 2pt 0 4pt; break-inside: auto; }
th, td { border: 0.75pt solid #777; padding: 1.5pt 6pt; text-align: left; vertical-align: top; }
th { background: #eee; }
tr { break-inside: avoid; }
td.n { width: 3em; text-align: right; }
.done { color: #555; }
.sun { border: 2pt solid #111; padding: 6pt 9pt; font-weight: bold; }
.clash { font-weight: bold; margin-top: 4pt; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 0 14pt; }
footer { margin-top: 10pt; font-size: 8.5pt; color: #444; border-top: 0.75pt solid #777;
         padding-top: 3pt; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def to_html(h: Handout) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(h.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(h.title)}</h1>",
    ]
    if h.clinic:
        parts.append(f'<p class="clinic">{_e(h.clinic)}</p>')
    parts.append(f'<p class="who">{_e(h.for_whom)}</p>')
    parts.append('<dl class="keys">')
    parts += [f"<dt>{_e(label)}</dt><dd>{_e(when)}</dd>" for label, when in h.key_dates]
    parts.append("</dl>")
    parts.append(f"<h2>Your sessions</h2><p>{_e(h.session_note)}</p>")
    head = ["No.", "Date", "Part of the course"] + (["Aftercare until"] if h.care_column else [])
    parts.append("<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr></thead>")
    parts.append("<tbody>")
    for r in h.rows:
        cls = ' class="done"' if r.done else ""
        when = _e(r.when) + (" (done)" if r.done else "")
        care = f"<td>{_e(r.care_until)}</td>" if h.care_column else ""
        parts.append(
            f'<tr{cls}><td class="n">{r.number}</td><td>{when}</td><td>{_e(r.part)}</td>{care}</tr>'
        )
    parts.append("</tbody></table>")
    if h.before:
        parts.append(f"<h2>Before your first session</h2>{_list(h.before)}")
    parts.append('<div class="columns"><div>')
    if h.expect:
        parts.append(f"<h2>What to expect after each session</h2>{_list(h.expect)}")
    if h.after_each:
        parts.append(f"<h2>After each session</h2>{_list(h.after_each)}")
    parts.append("</div><div>")
    if h.sun:
        parts.append(f'<h2>Sun and solarium</h2><p class="sun">{_e(h.sun)}</p>')
        parts += [f'<p class="clash">{_e(c)}</p>' for c in h.sun_clash]
    parts.append(f"<h2>When to call the clinic</h2>{_list(h.call)}")
    if h.clinic:
        parts.append(f'<p class="clinic">{_e(h.clinic)}</p>')
    parts.append("</div></div>")
    parts.append(f"<h2>Results</h2><p>{_e(h.results)}</p>")
    parts.append(f"<footer>{_e(h.footer)}</footer>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
