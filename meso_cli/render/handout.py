"""The patient's printable page for a planned course, as Markdown or self-contained A4 HTML,
in English or Turkish: every word from the catalogue (render/catalogue.py), dates by Babel."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from meso_cli.models import CareItem, Dataset, Patient, Plan, Protocol
from meso_cli.planning import care_items
from meso_cli.render.catalogue import CATALOGUES, DATE_PATTERN, Lang
from meso_cli.text import printable_line

_CITATION = re.compile(r"\s*\((?:\d{3}(?:[,;] ?)?)+\)")

STOP_NSAIDS = "stop-nsaids"
SUN = "sun"
SIDE_EFFECTS = "side-effects"
CALL = "call-clinic"
# Care before the course that means nothing once it is under way.
FIRST_ONLY = frozenset({"consultation"})


class Words:
    """One language's catalogue, its dates and its plurals; remembers every text the data
    has that the catalogue does not (a clinic's own care item), printed as the data has it."""

    def __init__(self, lang: Lang) -> None:
        from babel import Locale

        self.lang = lang
        self.text = CATALOGUES[lang]
        self.locale = Locale.parse(lang.value)
        self.missing: list[str] = []

    def __call__(self, key: str, **values: object) -> str:
        return self.text[key].format(**values)

    def day(self, d: date) -> str:
        return day(d, self.lang)

    def count(self, unit: str, n: int) -> str:
        """`3 days`, `1 day`, `3 gün`: the plural form by the language's CLDR rules."""
        form = self.locale.plural_form(n)
        key = f"n.{unit}.{form}" if f"n.{unit}.{form}" in self.text else f"n.{unit}.other"
        return self(key, n=n)

    def of_data(self, key: str, fallback: str, **values: object) -> str:
        """The patient text for a data id, or the data's own words (no citations, nothing
        unprintable) where the catalogue has none."""
        if key in self.text:
            try:
                return self(key, **values)
            except KeyError:  # a clinic's copy without the duration the text needs
                pass
        self.missing.append(key)
        return printable_line(_plain(fallback))


def day(d: date, lang: Lang = Lang.EN) -> str:
    """`Fri 27 Nov 2026`, `Cuma 27 Kasım 2026`: the weekday named, no D/M or M/D ambiguity."""
    from babel.dates import format_date

    return format_date(d, DATE_PATTERN[lang], locale=lang.value)


@dataclass
class Row:
    number: int
    when: str
    part: str
    care_until: str
    done: bool


@dataclass
class Handout:
    """What the page says, in order, in one language; both renderers lay out the same
    content. `untranslated` lists the catalogue keys the data needed and the catalogue lacked
    (the data's own words were printed instead)."""

    lang: Lang
    title: str
    clinic: str
    who: list[str]
    key_dates_heading: str
    key_dates: list[tuple[str, str]]
    sessions_heading: str
    session_note: str
    columns: list[str]
    rows: list[Row]
    care_note: str
    before_heading: str
    before: list[str]
    after_heading: str
    after_each: list[str]
    sun_heading: str
    sun: str
    sun_clash: list[str]
    results_heading: str
    results: str
    call_heading: str
    call: list[str]
    sign_off: str
    footer: str
    untranslated: list[str] = field(default_factory=list)


def _plain(text: str) -> str:
    """Data text without the seed citations, which mean nothing to a patient."""
    return " ".join(_CITATION.sub("", text).split())


def _care(w: Words, item: CareItem) -> str:
    values: dict[str, object] = {}
    if item.hours_after_each:
        values["hours"] = w.count("hours", item.hours_after_each)
    days = item.days_after_each or item.days_after_last or item.days_before_first
    if days:
        values["days"] = w.count("days", days)
    return w.of_data(f"care.{item.id}", item.text, **values)


def build(
    plan: Plan,
    patient: Patient,
    protocol: Protocol,
    data: Dataset,
    *,
    lang: Lang = Lang.EN,
    clinic_name: str | None = None,
    clinic_phone: str | None = None,
    practitioner: str | None = None,
    session_time: time | None = None,
) -> Handout:
    """The handout of a plan that has sessions (the caller checks that a plan was made).

    A course under way speaks of the next session, not the first; no date before the
    handout's own (the reference date) is ever given as something to do.
    """
    w = Words(lang)
    key = plan.key_dates
    today = plan.screening.reference_date
    under_way = any(s.done for s in plan.sessions)
    which = "next" if under_way else "first"
    precare = care_items(protocol, [*data.common_precare, *protocol.precare])
    aftercare = care_items(protocol, [*data.common_aftercare, *protocol.aftercare])
    phase_names = {p.id: p.name for p in protocol.phases}
    each_days = max((c.days_after_each or 0 for c in aftercare), default=0)
    at = session_time.strftime("%H:%M") if session_time else None

    rows = [
        Row(
            s.number,
            w.day(s.date) + (f" {w('done')}" if s.done else ""),
            w.of_data(f"phase.{s.phase}", phase_names.get(s.phase, s.phase)),
            w.day(s.date + timedelta(days=each_days)) if each_days and not s.done else "",
            s.done,
        )
        for s in plan.sessions
    ]

    def when(d: date) -> str:
        return w("at_time", date=w.day(d), time=at) if at else w.day(d)

    # Key dates: only what is still to come.
    dates: list[tuple[str, str]] = []
    stop, first = key.stop_nsaids_by, key.first_session
    if stop is not None and first is not None and stop >= today:
        dates.append((w("key.nsaid_last_day"), w.day(stop)))
    if first is not None:
        dates.append((w(f"key.{which}"), when(first)))
    if key.last_session is not None and key.last_session >= today:
        dates.append((w("key.last"), w.day(key.last_session)))
    if key.sun_avoid_until is not None and key.sun_avoid_until >= today:
        dates.append((w("key.sun"), w.day(key.sun_avoid_until)))

    before: list[str] = []
    for item in precare:
        if item.id == STOP_NSAIDS:
            if stop is None or first is None:
                continue  # no session to come, or nothing injected: nothing to stop for
            if stop >= today:
                gap = (first - stop).days
                ahead = w("ahead.week") if gap == 7 else w.count("days", gap)
                line = w(f"nsaid.until.{which}", date=w.day(stop), ahead=ahead)
            else:  # the day has passed: from now on, never a date gone by
                line = w(f"nsaid.now.{which}", date=w.day(first))
            before.append(f"{line} {_care(w, item)}")
        elif not (under_way and item.id in FIRST_ONLY):
            before.append(_care(w, item))
    if not protocol.injects:
        before.append(w("no_injection"))

    # After each session: what to expect first, then what to do.
    after_each = [_care(w, c) for c in aftercare if c.id == SIDE_EFFECTS]
    after_each += [_care(w, c) for c in aftercare if c.id not in (SIDE_EFFECTS, CALL, SUN)]
    call = [_care(w, c) for c in aftercare if c.id == CALL]
    call.append(w("call.before.male" if patient.sex == "male" else "call.before"))

    sun = ""
    clash: list[str] = []
    until, last = key.sun_avoid_until, key.last_session
    if until is not None and last is not None and until >= today:
        started = plan.sessions[0].date < today or under_way
        sun = w(
            "sun.now" if started else "sun.first",
            date=w.day(until),
            days=w.count("days", (until - last).days),
        )
        from_day = max(plan.sessions[0].date, today)
        for p in patient.sun_exposure:
            if p.start <= until and p.end >= from_day:
                clash.append(w("sun.clash", start=w.day(p.start), end=w.day(p.end)))

    done = sum(1 for s in plan.sessions if s.done)
    count = w.count("sessions", len(plan.sessions))
    note = [
        w("sessions.total_done", sessions=count, done=done)
        if done
        else w("sessions.total", sessions=count)
    ]
    if protocol.session_minutes:
        note.append(w("sessions.minutes", minutes=protocol.session_minutes))
    if at:
        note.append(w("sessions.time", time=at))

    who = []
    if patient.name:
        who.append(w("who.name", name=printable_line(patient.name)))
    if patient.id:
        who.append(w("who.id", id=printable_line(patient.id)))
    who.append(w("who.prepared", date=w.day(today)))
    if practitioner:
        who.append(w("who.practitioner", name=printable_line(practitioner)))

    phone = w("phone", phone=printable_line(clinic_phone)) if clinic_phone else ""
    sign_off = " · ".join(x for x in (printable_line(clinic_name or ""), phone) if x)
    title = w("title", protocol=w.of_data(f"protocol.{protocol.id}", protocol.name))
    return Handout(
        lang=lang,
        title=title,
        clinic=printable_line(clinic_name or ""),
        who=who,
        key_dates_heading=w("heading.key_dates"),
        key_dates=dates,
        sessions_heading=w("heading.sessions"),
        session_note=" ".join(note),
        columns=[w("col.number"), w("col.date"), w("col.part")]
        + ([w("col.care")] if each_days else []),
        rows=rows,
        care_note=w("care_until", days=w.count("days", each_days)) if each_days else "",
        before_heading=w(f"heading.before.{which}"),
        before=before,
        after_heading=w("heading.after_each"),
        after_each=after_each,
        sun_heading=w("heading.sun"),
        sun=sun,
        sun_clash=clash,
        results_heading=w("heading.results"),
        results=w.of_data(f"results.{protocol.id}", protocol.results),
        call_heading=w("heading.call"),
        call=call,
        sign_off=sign_off,
        footer=w("footer", version=plan.meso_version, data=plan.screening.data_version[:12]),
        untranslated=list(dict.fromkeys(w.missing)),
    )


# --- Markdown ------------------------------------------------------------------------------

# Characters that start inline Markdown anywhere in a line: code, emphasis, links, images,
# raw HTML and autolinks, entities, table cells, strikethrough, and the backslash itself.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>!&|~])")
# What opens a block at the start of a line: a heading, a quote, a list or rule, a setext
# underline, a numbered list.
_MD_LINE_START = re.compile(r"^(?:([#>+\-=])|(\d{1,9})([.)]))")


def _md(text: str) -> str:
    """Any text as literal Markdown: one line (line breaks shown as `\\u000a`), every
    character that could start markup escaped, so that no list, heading, rule, link, HTML
    or entity can come out of a patient's id, a clinic's phone or a data text."""
    line = " ".join(printable_line(text).split())
    line = _MD_INLINE.sub(r"\\\1", line)
    return _MD_LINE_START.sub(
        lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", line
    )


def to_markdown(h: Handout) -> str:
    out = [f"# {_md(h.title)}", ""]
    if h.clinic:
        out += [f"**{_md(h.clinic)}**", ""]
    out += [" · ".join(_md(x) for x in h.who), ""]
    out += [f"## {_md(h.key_dates_heading)}", ""]
    out += [f"- **{_md(label)}:** {_md(when)}" for label, when in h.key_dates]
    out += ["", f"## {_md(h.sessions_heading)}", "", _md(h.session_note), ""]
    out += ["| " + " | ".join(_md(c) for c in h.columns) + " |", "|" + "---|" * len(h.columns)]
    for r in h.rows:
        cells = [str(r.number), r.when, r.part] + ([r.care_until] if h.care_note else [])
        out.append("| " + " | ".join(_md(c) for c in cells) + " |")
    if h.care_note:
        out += ["", _md(h.care_note)]
    for heading, items in ((h.before_heading, h.before), (h.after_heading, h.after_each)):
        if items:
            out += ["", f"## {_md(heading)}", ""] + [f"- {_md(i)}" for i in items]
    if h.sun:
        out += ["", f"## {_md(h.sun_heading)}", "", f"**{_md(h.sun)}**"]
        out += [f"\n> {_md(c)}" for c in h.sun_clash]
    out += ["", f"## {_md(h.results_heading)}", "", _md(h.results)]
    out += ["", f"## {_md(h.call_heading)}", ""] + [f"- {_md(c)}" for c in h.call]
    if h.sign_off:
        out += ["", f"**{_md(h.sign_off)}**"]
    out += ["", "---", "", f"_{_md(h.footer)}_", ""]
    return "\n".join(out)


# --- HTML ----------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 9mm 13mm; }
* { box-sizing: border-box; }
html { background: #fff; }
body { font: 9.5pt/1.25 "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
       color: #111; max-width: 184mm; margin: 0 auto; padding: 8mm 0; }
@media print { body { padding: 0; } }
h1 { font-size: 16pt; margin: 0 0 2pt; }
h2 { font-size: 11pt; margin: 7pt 0 3pt; border-bottom: 1.5pt solid #111; padding-bottom: 1pt;
     break-after: avoid; }
p, ul { margin: 0 0 4pt; }
ul { padding-left: 14pt; }
li { margin-bottom: 1pt; break-inside: avoid; }
.who { color: #333; margin-bottom: 6pt; }
.clinic { font-weight: bold; }
dl.keys { display: grid; grid-template-columns: auto 1fr; gap: 1pt 12pt; margin: 0 0 4pt;
          padding: 4pt 9pt; border: 1.5pt solid #111; break-inside: avoid; }
dl.keys dt { font-weight: bold; } dl.keys dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 2pt 0 3pt; break-inside: auto; }
th, td { border: 0.75pt solid #777; padding: 1pt 6pt; text-align: left; vertical-align: top; }
th { background: #eee; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.n { width: 3em; text-align: right; }
.done { color: #555; }
.note { font-size: 9pt; color: #333; }
.sun { border: 2pt solid #111; padding: 4pt 8pt; font-weight: bold; }
.clash { font-weight: bold; margin-top: 4pt; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 0 14pt; }
section { break-inside: avoid; }
.call .clinic { font-size: 10.5pt; margin-top: 4pt; }
footer { margin-top: 8pt; font-size: 8pt; color: #444; border-top: 0.75pt solid #777;
         padding-top: 3pt; break-inside: avoid; }
"""


def _e(text: str) -> str:
    return html.escape(printable_line(text), quote=True)


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def to_html(h: Handout) -> str:
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{h.lang.value}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(h.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(h.title)}</h1>",
    ]
    if h.clinic:
        parts.append(f'<p class="clinic">{_e(h.clinic)}</p>')
    parts.append(f'<p class="who">{" · ".join(_e(x) for x in h.who)}</p>')
    parts.append(f"<h2>{_e(h.key_dates_heading)}</h2>")
    parts.append('<dl class="keys">')
    parts += [f"<dt>{_e(label)}</dt><dd>{_e(when)}</dd>" for label, when in h.key_dates]
    parts.append("</dl>")
    parts.append(f"<h2>{_e(h.sessions_heading)}</h2><p>{_e(h.session_note)}</p>")
    head = "".join(f"<th>{_e(c)}</th>" for c in h.columns)
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>")
    for r in h.rows:
        cls = ' class="done"' if r.done else ""
        care = f"<td>{_e(r.care_until)}</td>" if h.care_note else ""
        parts.append(
            f'<tr{cls}><td class="n">{r.number}</td><td>{_e(r.when)}</td>'
            f"<td>{_e(r.part)}</td>{care}</tr>"
        )
    parts.append("</tbody></table>")
    if h.care_note:
        parts.append(f'<p class="note">{_e(h.care_note)}</p>')
    # Each heading with its text is one block that a page break never splits.
    if h.before:
        parts.append(f"<section><h2>{_e(h.before_heading)}</h2>{_list(h.before)}</section>")
    parts.append('<div class="columns"><div>')
    if h.after_each:
        parts.append(f"<section><h2>{_e(h.after_heading)}</h2>{_list(h.after_each)}</section>")
    parts.append("</div><div>")
    if h.sun:
        parts.append(f'<section><h2>{_e(h.sun_heading)}</h2><p class="sun">{_e(h.sun)}</p>')
        parts += [f'<p class="clash">{_e(c)}</p>' for c in h.sun_clash]
        parts.append("</section>")
    parts.append(f"<section><h2>{_e(h.results_heading)}</h2><p>{_e(h.results)}</p></section>")
    parts.append("</div></div>")
    # The call list and the clinic's phone are one block: a page never parts them.
    parts.append(f'<section class="call"><h2>{_e(h.call_heading)}</h2>{_list(h.call)}')
    if h.sign_off:
        parts.append(f'<p class="clinic">{_e(h.sign_off)}</p>')
    parts.append("</section>")
    parts.append(f"<footer>{_e(h.footer)}</footer>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
