"""Rich renderables for people: the verdict first, in words and symbols, never colour alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_never

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from meso_cli.models import (
    Action,
    Dataset,
    Finding,
    Phase,
    Protocol,
    Rule,
    Screening,
    TermKind,
    Verdict,
)

VERDICT_LOOK: dict[Verdict, tuple[str, str, str]] = {
    Verdict.ELIGIBLE: ("✓", "ELIGIBLE", "bold green"),
    Verdict.DEFERRED: ("…", "DEFERRED", "bold yellow"),
    Verdict.REVIEW: ("?", "REVIEW REQUIRED", "bold magenta"),
    Verdict.NOT_ELIGIBLE: ("✗", "NOT ELIGIBLE", "bold red"),
}

ACTION_LOOK: dict[Action, tuple[str, str, str]] = {
    Action.EXCLUDE: ("✗", "EXCLUDE", "red"),
    Action.REVIEW: ("?", "REVIEW", "magenta"),
    Action.DEFER: ("…", "DEFER", "yellow"),
}


def verdict_line(s: Screening) -> Text:
    """The verdict and the rule(s) it rests on: `✗ NOT ELIGIBLE — pregnancy: do not treat`."""
    from meso_cli.screening import deciding_rules

    symbol, word, style = VERDICT_LOOK[s.verdict]
    line = Text(f"{symbol} {word}", style=style)
    rules = ", ".join(deciding_rules(s))
    match s.verdict:
        case Verdict.ELIGIBLE:
            line.append(f" — may treat from {s.earliest_start}")
        case Verdict.DEFERRED:
            line.append(
                f" — {rules}: first session from {s.earliest_start}"
                if s.earliest_start
                else f" — {rules}: no start date until the deferral has an end"
            )
        case Verdict.REVIEW:
            line.append(f" — {rules}: a practitioner must decide, then --clear RULE")
            if s.earliest_start is not None and s.earliest_start != s.reference_date:
                line.append(f"; first session from {s.earliest_start}")
        case Verdict.NOT_ELIGIBLE:
            line.append(f" — {rules}: do not treat")
        case _:
            assert_never(s.verdict)
    return line


def source_line(files: list[str], titles: Mapping[str, str]) -> str:
    """Sources as people read them: `001 — Hair Mesotherapy`; the file name when the data
    has no title for it."""
    return "; ".join(
        f"{f[:3]} — {titles[f]}" if f in titles and f[:3].isdigit() else f for f in files
    )


class _Hanging:
    """Text wrapped with a hanging indent and no trailing padding on any line.

    Rich's Padding fills every line to the full width with spaces, which pasted notes and
    terminal copies carry along; this keeps each line as long as its words.
    """

    def __init__(self, text: Text, first: str = "", rest: str = "") -> None:
        self.text, self.first, self.rest = text, first, rest

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        indent = max(cell_len(self.first), cell_len(self.rest))
        width = max(options.max_width - indent, 20)
        lines = console.render_lines(self.text, options.update_width(width), pad=False)
        for i, line in enumerate(lines):
            while line and not line[-1].text.rstrip():
                line.pop()
            if line:
                last = line[-1]
                line[-1] = Segment(last.text.rstrip(), last.style, last.control)
            yield Segment(self.first if i == 0 else self.rest)
            yield from line
            yield Segment.line()


Hanging = _Hanging  # for the other renderers


class _Facts:
    """Short facts joined by ' · ', breaking lines only between facts where it can."""

    def __init__(self, facts: list[str], style: str = "") -> None:
        self.facts, self.style = facts, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines: list[str] = []
        for fact in self.facts:
            if lines and cell_len(lines[-1] + " · " + fact) <= options.max_width:
                lines[-1] += " · " + fact
            else:
                lines.append(fact)
        yield _Hanging(Text("\n".join(lines), style=self.style))


def cleared_by(f: Finding) -> str:
    """Who cleared a finding, when and why (recorded in the patient file), or that it was
    cleared for this run with --clear."""
    c = f.clearance
    if c is None:
        return " by the practitioner"
    return f" by {c.by} on {c.on}: {c.reason}"


def _finding(f: Finding, titles: Mapping[str, str]) -> RenderableType:
    symbol, word, style = ACTION_LOOK[f.action]
    head = Text()
    head.append(f"{symbol} {word}", style=style)
    head.append(f"  {f.title}", style="bold")
    head.append(f"  [{f.rule}]")
    if f.cleared:
        head.append("  CLEARED", style="bold green")
        head.append(" by the practitioner" if f.clearance is None else "")
    body = Text()
    body.append(f.detail)
    if f.clearance is not None:
        body.append(f"\ncleared{cleared_by(f)}", style="green")
    if f.until is not None and str(f.until) not in f.detail:
        body.append(f"\nfirst possible session: {f.until}")
    body.append(f"\n→ {f.advice}")
    body.append(f"\nsources: {source_line(f.sources, titles)}", style="dim")
    return Group(_Hanging(head, rest="    "), _Hanging(body, "    ", "    "))


def screening_view(
    s: Screening,
    *,
    titles: Mapping[str, str],
    under_verdict: RenderableType | None = None,
) -> RenderableType:
    """The screening for people: the verdict and what it rests on first (`under_verdict`:
    a line the caller adds there, such as a plan's warnings in short), then the findings
    strongest first. `titles` (source file -> title, the data's `sources`) names the
    sources as every command names them."""
    parts: list[RenderableType] = [_Hanging(verdict_line(s), rest="  ")]
    if under_verdict is not None:
        parts.append(under_verdict)
    facts = [
        f"patient {s.patient_id or '(no id)'}",
        f"protocol {s.protocol or '(none chosen)'}",
        f"reference date {s.reference_date}",
    ]
    if s.evaluated_on != s.reference_date:
        facts.append(f"start {s.evaluated_on}")
    parts.append(_Facts(facts, style="dim"))
    parts.append(Text())
    if s.findings:
        parts.append(Text(f"Findings ({len(s.findings)})", style="bold underline"))
        for i, f in enumerate(s.findings):
            if i:
                parts.append(Text())
            parts.append(_finding(f, titles))
    else:
        parts.append(Text("No contraindication found."))
    if s.not_applicable:
        parts.append(Text())
        parts.append(
            _Hanging(
                Text(f"Not applicable to {s.protocol}: {', '.join(s.not_applicable)}"),
                rest="  ",
            )
        )
    if s.assumed:
        parts.append(Text())
        parts.append(Text("Assumed — confirm with the patient", style="bold underline"))
        parts.extend(_Hanging(Text(a.text), "• ", "  ") for a in s.assumed)
    if s.cleared:
        parts.append(Text())
        parts.append(
            _Hanging(Text(f"Cleared by the practitioner: {', '.join(s.cleared)}"), rest="  ")
        )
    return Group(*parts)


def _data_table(title: str, key: str, keys: list[str]) -> Table:
    """The one table style of `meso rules` and `meso protocols`: a title, a ruled header,
    no outer frame, and the id column never cut short (ids are typed back: --clear, `meso
    rules ID`)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    table.add_column(key, no_wrap=True, min_width=max((len(k) for k in keys), default=len(key)))
    return table


def _sources(sources: list[str]) -> str:
    return ", ".join(s[:3] for s in sources)


def _legend(files: list[str], titles: Mapping[str, str]) -> RenderableType:
    """The sources a table cites by number, each with its title."""
    cited = sorted(dict.fromkeys(files))
    return _Hanging(Text("Sources: " + source_line(cited, titles), style="dim"), rest="  ")


def rules_table(rules: list[Rule], titles: Mapping[str, str] | None = None) -> RenderableType:
    table = _data_table("Contraindication rules", "rule", [r.id for r in rules])
    table.add_column("action", no_wrap=True)
    table.add_column("title", min_width=13)
    table.add_column("sources")
    for r in rules:
        symbol, word, style = ACTION_LOOK[r.action]
        table.add_row(
            r.id, Text(f"{symbol} {word.lower()}", style=style), r.title, _sources(r.sources)
        )
    if not titles:
        return table
    return Group(table, _legend([f for r in rules for f in r.sources], titles))


def rule_view(r: Rule, titles: Mapping[str, str] | None = None) -> RenderableType:
    symbol, word, style = ACTION_LOOK[r.action]
    head = Text()
    head.append(f"{r.id}  ", style="bold")
    head.append(f"{symbol} {word}", style=style)
    head.append(f"  {r.title}")
    return Group(
        _Hanging(head, rest="  "),
        _Hanging(Text(f"Why: {r.rationale}"), rest="  "),
        _Hanging(Text(f"Do: {r.advice}"), rest="  "),
        _Hanging(Text(f"Sources: {source_line(r.sources, titles or {})}", style="dim"), rest="  "),
    )


def protocols_table(
    protocols: list[Protocol], titles: Mapping[str, str] | None = None
) -> RenderableType:
    table = _data_table("Protocols", "protocol", [p.id for p in protocols])
    table.add_column("course", min_width=24)
    table.add_column("sources")
    for p in protocols:
        course = phases_text(p)
        if len(p.courses) > 1:
            course += f"\n(+{len(p.courses) - 1} other courses: --course)"
        table.add_row(p.id, course, _sources(p.sources))
    if not titles:
        return table
    return Group(table, _legend([f for p in protocols for f in p.sources], titles))


def phases_text(p: Protocol, phases: list[Phase] | None = None) -> str:
    steps = []
    for ph in p.phases if phases is None else phases:
        n = ph.sessions
        count = f"{n.default}" if n.min == n.max else f"{n.default} ({n.min}–{n.max})"
        if n.usual_max is not None:
            count = f"{n.min}–{n.usual_max}, up to {n.max}"
        iv = ph.interval_days
        every = ""
        if iv is not None:
            every = f", every {iv.target} days"
            if iv.min != iv.max:
                every += f" ({iv.min}–{iv.max})"
        if ph.per_week:
            every = ", " + " or ".join(f"{c.per_week}×/week" for c in ph.per_week)
        steps.append(f"{ph.name}: {count}{every}")
    # One phase a line: the course reads top to bottom at a glance.
    return "\nthen ".join(steps)


def protocol_view(p: Protocol, data: Dataset) -> RenderableType:
    table = Table(title=f"{p.id} — {p.name}", expand=False)
    table.add_column("phase")
    table.add_column("sessions")
    table.add_column("days apart")
    table.add_column("sources")
    for ph in p.phases:
        n, iv = ph.sessions, ph.interval_days
        sessions = f"{n.default} ({n.min}–{n.max})"
        if n.usual_max is not None:
            sessions = f"{n.default} ({n.min}–{n.usual_max}, up to {n.max})"
        apart = f"{iv.target} ({iv.min}–{iv.max})" if iv is not None else "—"
        for c in ph.per_week:
            apart += f"\n{c.per_week}×/week: {c.target} ({c.min}–{c.max})"
        name = ph.name + (" (maintenance)" if ph.maintenance else "")
        table.add_row(name, sessions, apart, ", ".join(s[:3] for s in ph.sources))
    names = {t.id: t.names[0] for terms in data.terms.values() for t in terms}
    lines: list[RenderableType] = [table]
    facts = [f"For: {', '.join(p.indications)}"]
    if p.session_minutes:
        facts.append(f"Session: about {p.session_minutes} minutes")
    if p.needle_depth_mm:
        facts.append(f"Needle depth: {p.needle_depth_mm.min:g}–{p.needle_depth_mm.max:g} mm")
    if not p.injects:
        facts.append("Injects nothing.")
    facts.append(
        f"Ingredients: {', '.join(names.get(i, i) for i in p.ingredients)}"
        if p.ingredients
        else "Ingredients: none that a source gives for this use (an allergy to any mesotherapy "
        "ingredient is reviewed against the clinic's solution)"
    )
    if p.exempt_rules:
        facts.append(f"Rules not applied: {', '.join(p.exempt_rules)} — {p.exempt_reason or ''}")
    from meso_cli.planning import care_items

    care = care_items(p, [*data.common_precare, *p.precare])
    if care:
        facts.append("Before: " + " ".join(c.text for c in care))
    after = care_items(p, [*data.common_aftercare, *p.aftercare])
    facts.append("After: " + " ".join(c.text for c in after))
    facts.append(f"Results: {p.results}")
    if p.maintenance:
        facts.append(f"Maintenance: {p.maintenance}")
    facts.extend(_course_lines(p, data))
    facts.append(f"Sources: {source_line(p.sources, data.sources)}")
    lines.extend(_Hanging(Text(f), rest="  ") for f in facts)
    return Group(*lines)


def _course_lines(p: Protocol, data: Dataset) -> list[str]:
    """The protocol's named courses, each with its phases (--course ID)."""
    if not p.courses:
        return []
    conditions = {t.id: t.names[0] for t in data.terms.get(TermKind.CONDITION, [])}
    out = ["Courses (--course ID):"]
    for i, c in enumerate(p.courses):
        phases = p.phases if i == 0 else c.phases
        line = f"• {c.id}{' (default)' if i == 0 else ''}: {c.name} — "
        line += phases_text(p, phases).replace("\nthen ", "; then ")
        if c.proposed_for:
            shown = ", ".join(conditions.get(t, t) for t in c.proposed_for)
            line += f"; proposed for {shown}"
        out.append(line)
    return out
