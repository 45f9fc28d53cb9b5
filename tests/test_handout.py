"""`meso handout`: the patient's page carries every date still to come, in the patient's
language, as literal text, or nothing is written."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from meso_cli.cli import app
from meso_cli.render.catalogue import Lang
from meso_cli.render.handout import day

ON = "2026-11-22"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "patient.yaml"
runner = CliRunner()


def meso(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "100"})
    return result.exit_code, result.stdout, result.stderr


def plan_of(patient: Path, *args: str, on: str = ON) -> dict[str, object]:
    code, out, err = meso("plan", str(patient), "-p", "hair", "--on", on, "--json", *args)
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def dates_to_come(plan: dict[str, object], lang: Lang = Lang.EN) -> list[str]:
    """Every session date and key date on or after the reference date, as the page spells it."""
    sessions = plan["sessions"]
    keys = plan["key_dates"]
    screening = plan["screening"]
    assert isinstance(sessions, list) and isinstance(keys, dict) and isinstance(screening, dict)
    today = date.fromisoformat(screening["reference_date"])
    days = [date.fromisoformat(d) for d in [s["date"] for s in sessions] + list(keys.values()) if d]
    return [day(d, lang) for d in days if d >= today]


def write(tmp_path: Path, text: str) -> Path:
    patient = tmp_path / "p.yaml"
    patient.write_text(text, encoding="utf-8")
    return patient


def test_day_is_unambiguous_in_both_languages() -> None:
    assert day(date(2026, 11, 27)) == "Fri 27 Nov 2026"
    assert day(date(2028, 2, 29)) == "Tue 29 Feb 2028"
    assert day(date(2026, 11, 27), Lang.TR) == "Cuma 27 Kasım 2026"
    assert day(date(2027, 8, 10), Lang.TR) == "Salı 10 Ağustos 2027"


def test_html_handout_has_every_date_to_come_and_needs_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "handout.html"
    code, out, err = meso(
        "handout", str(EXAMPLE), "-p", "hair", "--on", ON, "-o", str(target),
        "--clinic", "Clinic <Ada> & Co", "--phone", "+90 212 555 0101",
    )  # fmt: skip
    assert code == 0, err
    assert out == ""
    assert f"wrote the handout to {target}" in err
    page = target.read_text(encoding="utf-8")
    for when in dates_to_come(plan_of(EXAMPLE)):
        assert when in page, when
    assert "@page { size: A4" in page and '<html lang="en">' in page
    assert "Clinic &lt;Ada&gt; &amp; Co" in page  # escaped, not markup
    # Self-contained: no scripts, no stylesheets or images fetched from anywhere.
    assert not re.search(r"<script|<link|<img|url\(|https?://", page)
    for said in ("Redness, swelling, bruising", "When to call the clinic", "No sunbathing"):
        assert said in page
    assert "001" not in re.sub(r"<style>.*?</style>", "", page, flags=re.S).split("<footer>")[0]


def test_markdown_on_stdout_by_default() -> None:
    code, out, err = meso("handout", str(EXAMPLE), "-p", "hair", "--on", ON)
    assert code == 0, err
    assert out.startswith("# Your mesotherapy course: Hair loss\n")
    assert "- **First session:** Fri 27 Nov 2026" in out
    assert "| 1 | Fri 27 Nov 2026 | Weekly | Mon 30 Nov 2026 |" in out
    assert "until Tue 6 Apr 2027, 20 days after your last session" in out
    for when in dates_to_come(plan_of(EXAMPLE)):
        assert when in out


# --- language -------------------------------------------------------------------------------


def test_turkish_handout_has_turkish_words_and_dates(tmp_path: Path) -> None:
    target = tmp_path / "h.html"
    code, out, err = meso(
        "handout", str(EXAMPLE), "-p", "hair", "--on", ON, "--lang", "tr", "-o", str(target),
        "--phone", "+90 212 555 0101",
    )  # fmt: skip
    assert code == 0, err
    page = target.read_text(encoding="utf-8")
    assert '<html lang="tr">' in page
    assert "Mezoterapi tedaviniz: Saç dökülmesi" in page
    for when in dates_to_come(plan_of(EXAMPLE), Lang.TR):
        assert when in page, when
    assert "Cuma 27 Kasım 2026" in page
    for said in ("İlk seansınızdan önce", "Her seanstan sonra", "güneşlenmeyin",
                 "solaryuma girmeyin", "ağrı kesici", "Telefon: +90 212 555 0101"):  # fmt: skip
        assert said in page, said
    # Not a word of the English catalogue leaks into the Turkish page.
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S))
    for english in ("session", "Before", "After", "Call", "Phone", "until", "painkiller"):
        assert english not in text, english


def test_language_must_be_en_or_tr() -> None:
    code, _, err = meso("handout", str(EXAMPLE), "-p", "hair", "--on", ON, "--lang", "de")
    assert code == 2
    assert "--lang" in err


def test_the_profile_sets_the_language_and_lang_overrides_it(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text('[handout]\nlanguage = "tr"\n', encoding="utf-8")
    args = ("handout", str(EXAMPLE), "-p", "hair", "--on", ON, "--profile", str(profile))
    code, out, err = meso(*args)
    assert code == 0, err
    assert "## Seanslarınız" in out and "## Your sessions" not in out
    code, out, err = meso(*args, "--lang", "en")
    assert code == 0, err
    assert "## Your sessions" in out
    code, out, err = meso("handout", str(EXAMPLE), "-p", "hair", "--on", ON)
    assert code == 0, err
    assert "## Your sessions" in out  # no profile: English


# --- who, when ------------------------------------------------------------------------------


def test_name_practitioner_and_session_time_are_printed(tmp_path: Path) -> None:
    patient = write(tmp_path, "id: P-9\nname: Ayşe Yılmaz\nage: 40\nsex: female\n"
                    "pregnant: false\nbreastfeeding: false\n")  # fmt: skip
    code, out, err = meso(
        "handout", str(patient), "-p", "hair", "--on", ON,
        "--practitioner", "Dr. Ada Kaya", "--time", "10:30",
    )  # fmt: skip
    assert code == 0, err
    assert "Patient: Ayşe Yılmaz · Patient id: P-9 · Prepared: Sun 22 Nov 2026" in out
    assert "Practitioner: Dr. Ada Kaya" in out
    assert "- **First session:** Mon 23 Nov 2026 at 10:30" in out
    assert "Session time: 10:30." in out
    code, out, err = meso(
        "handout", str(patient), "-p", "hair", "--on", ON, "--lang", "tr", "--time", "10:30"
    )
    assert "Hasta: Ayşe Yılmaz" in out and "Pazartesi 23 Kasım 2026, saat 10:30" in out
    code, _, err = meso("handout", str(patient), "-p", "hair", "--on", ON, "--time", "25:00")
    assert code == 2 and "expected HH:MM" in err


def test_the_name_never_reaches_batch_output(tmp_path: Path) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"id": "P-1", "name": "Ayşe Yılmaz", "age": 40}\n', encoding="utf-8")
    for extra in ([], ["--plan"]):
        code, out, err = meso("batch", str(lines), "-p", "hair", "--on", ON, "--jobs", "1", *extra)
        assert code == 0, err
        assert "P-1" in out and "Ayşe" not in out and "name" not in json.loads(out)


# --- a course under way, and dates gone by ---------------------------------------------------


def test_a_course_under_way_shows_what_comes_next(tmp_path: Path) -> None:
    patient = write(
        tmp_path,
        "id: P-7\nage: 40\nsessions_done: [2026-11-03, 2026-11-10, 2026-11-17]\n"
        "sun_exposure: [{from: 2026-11-05, to: 2026-11-08}]\n",
    )
    on = "2026-11-18"
    plan = plan_of(patient, on=on)
    keys = plan["key_dates"]
    assert isinstance(keys, dict) and keys["stop_nsaids_by"] == "2026-11-17"  # a day gone by
    for lang, words in (
        (Lang.EN, ("Before your next session", "- **Next session:** Tue 24 Nov 2026",
                   "from now until your next session on Tue 24 Nov 2026",
                   "10 sessions in all, 3 already done.",
                   "No sunbathing and no solarium from now")),
        (Lang.TR, ("Sonraki seansınızdan önce", "- **Sonraki seans:** Salı 24 Kasım 2026",
                   "Bugünden başlayarak, Salı 24 Kasım 2026 günkü sonraki seansınıza kadar",
                   "Toplam 10 seans; 3 yapıldı.")),
    ):  # fmt: skip
        code, out, err = meso(
            "handout", str(patient), "-p", "hair", "--on", on, "--lang", lang.value
        )
        assert code == 0, err
        for said in words:
            assert said in out, said
        # The first session is history: no talk of it, and no consultation before it.
        assert "first session" not in out.lower() and "İlk seans" not in out
        assert "doctor before the course" not in out
        # A date before the handout's own is never an instruction: outside the table of
        # sessions (where past ones are marked done) no date gone by appears at all.
        outside = "\n".join(line for line in out.splitlines() if not line.startswith("|"))
        for gone in ("2026-11-17", "2026-11-03", "2026-11-05", "2026-11-08", "2026-11-10"):
            assert day(date.fromisoformat(gone), lang) not in outside, gone
        assert day(date(2026, 11, 17), lang) in out  # in the table, marked done


def test_a_stop_day_gone_by_is_never_given_as_an_instruction() -> None:
    # The example took ibuprofen on 20 Nov; the first session is 27 Nov, so the last day for
    # painkillers (20 Nov) is before the handout's own date (22 Nov).
    plan = plan_of(EXAMPLE)
    keys = plan["key_dates"]
    assert isinstance(keys, dict) and keys["stop_nsaids_by"] == "2026-11-20"
    for lang in Lang:
        code, out, _ = meso("handout", str(EXAMPLE), "-p", "hair", "--on", ON, "--lang", lang)
        assert code == 0
        assert day(date(2026, 11, 20), lang) not in out
    code, out, _ = meso("handout", str(EXAMPLE), "-p", "hair", "--on", ON)
    assert "Take no anti-inflammatory painkillers (such as ibuprofen or naproxen) from now " in out
    # With the stop day still to come, it is given, a week before the first session.
    code, out, _ = meso("handout", str(EXAMPLE), "-p", "hair", "--on", ON, "--start", "2026-12-07")
    assert "- **Last day you may take anti-inflammatory painkillers:** Mon 30 Nov 2026" in out
    assert "on Mon 30 Nov 2026 at the latest, a week before your first session" in out


def test_no_handout_tells_a_patient_to_stop_a_blood_thinner(tmp_path: Path) -> None:
    patient = write(tmp_path, "age: 40\nmedications: [{name: aspirin, last_dose: 2026-11-01}]\n")
    for lang, keep in (
        (Lang.EN, "never stop it without asking that doctor"),
        (Lang.TR, "o doktora sormadan bu ilacı asla bırakmayın"),
    ):
        for args in ((str(EXAMPLE),), (str(patient), "--clear", "anticoagulant")):
            code, out, err = meso("handout", *args, "-p", "hair", "--on", ON, "--lang", lang)
            assert code == 0, err
            assert "aspirin" not in out.lower()  # never named as a painkiller to stop
            assert keep in out


def test_done_sessions_and_a_clashing_holiday_are_shown(tmp_path: Path) -> None:
    patient = write(
        tmp_path,
        "id: P-7\nage: 40\nsessions_done: [2026-11-10, 2026-11-17]\n"
        "sun_exposure: [{from: 2027-01-02, to: 2027-01-09}]\n",
    )
    code, out, err = meso("handout", str(patient), "-p", "hair", "--on", ON, "--format", "md")
    assert code == 0, err
    assert "| 1 | Tue 10 Nov 2026 (done) | Weekly |  |" in out
    assert "10 sessions in all, 2 already done." in out
    assert "sun holiday from Sat 2 Jan 2027 to Sat 9 Jan 2027 falls in this time" in out
    for when in dates_to_come(plan_of(patient)):
        assert when in out


def test_no_needle_has_no_nsaid_advice(tmp_path: Path) -> None:
    patient = write(tmp_path, "age: 40\nmedications: [warfarin]\n")
    for lang, nothing in ((Lang.EN, "Nothing is injected"), (Lang.TR, "iğne ile hiçbir şey")):
        code, out, err = meso(
            "handout", str(patient), "-p", "no-needle", "--on", ON, "--lang", lang
        )
        assert code == 0, err
        assert "painkiller" not in out and "ağrı kesici" not in out
        assert nothing in out
        assert "needle went in" not in out  # 002: no side effects on the skin without needles


# --- layout ---------------------------------------------------------------------------------


def test_markdown_layout_one_aftercare_heading_results_before_the_sign_off() -> None:
    code, out, err = meso(
        "handout", str(EXAMPLE), "-p", "hair", "--on", ON, "--clinic", "Clinic Ada",
        "--phone", "+90 212 555 0101",
    )  # fmt: skip
    assert code == 0, err
    headings = re.findall(r"^## (.*)$", out, flags=re.M)
    assert headings == [
        "Key dates", "Your sessions", "Before your first session", "After each session",
        "Sun and solarium", "Results", "When to call the clinic",
    ]  # fmt: skip
    # The clinic signs off the call list, after the results; only the footer follows.
    assert out.index("## Results") < out.index("## When to call") < out.index("**Clinic Ada · ")
    assert out.rstrip().endswith("_") and out.count("Phone +90 212 555 0101") == 1
    # "Aftercare until" is explained under the table that shows it.
    assert "Aftercare until: 3 days after each session." in out


def test_html_keeps_the_call_list_and_the_phone_in_one_unbreakable_block(tmp_path: Path) -> None:
    for lang in Lang:
        target = tmp_path / f"h-{lang}.html"
        code, _, err = meso(
            "handout", str(EXAMPLE), "-p", "cellulite", "--per-week", "2", "--sessions", "16",
            "--on", ON, "--phone", "+90 212 555 0101", "--lang", lang, "-o", str(target),
        )  # fmt: skip
        assert code == 0, err
        page = target.read_text(encoding="utf-8")
        assert "section { break-inside: avoid; }" in page
        block = re.search(r'<section class="call">(.*?)</section>', page, flags=re.S)
        assert block is not None and "+90 212 555 0101" in block.group(1)
        assert page.index("<footer>") > block.end()


# --- Markdown is literal text --------------------------------------------------------------

HOSTILE = [
    "555\n\n1. Stop your blood thinner",
    "\n\n---\n\n1. Stop warfarin today",
    "# Stop everything",
    "1) Stop it",
    "- Stop it",
    "> quoted",
    "[call me](http://example.com)",
    "![x](http://example.com/x.png)",
    "<b>bold</b> <script>alert(1)</script>",
    "Tom & Jerry &amp; &#35; &copy;",
    "*strong* _em_ `code` ~~gone~~",
    "a | b | c",
    "\\# backslash",
    "    indented code",
    "===",
    "P-1\u001b[2J\u202eevil",
]


def _check_literal(markdown: str, hostile: list[str]) -> None:
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(markdown)
    kinds = [t.type for t in tokens] + [c.type for t in tokens for c in t.children or []]
    for bad in ("ordered_list_open", "link_open", "image", "html_inline", "html_block",
                "code_inline", "code_block", "blockquote_open", "s_open"):  # fmt: skip
        assert bad not in kinds, bad
    assert (
        kinds.count("em_open") == 1
    )  # the footer, in italics    assert kinds.count("hr") == 1  # the footer's rule, no other
    assert [t.tag for t in tokens if t.type == "heading_open"].count("h1") == 1
    rendered = md.render(markdown)
    for text in hostile:
        from meso_cli.text import printable_line

        shown = html.escape(" ".join(printable_line(text).split()), quote=False)
        assert shown in rendered, shown


def test_markdown_shows_every_outside_text_literally() -> None:
    from meso_cli.clinic import Clinic
    from meso_cli.data import load_dataset
    from meso_cli.files import packaged_data_dir
    from meso_cli.patients import load_patient
    from meso_cli.planning import screen_and_plan
    from meso_cli.render.handout import build, to_markdown
    from meso_cli.screening import Screener

    data = load_dataset(packaged_data_dir())
    hair = data.protocol("hair")
    assert hair is not None
    base = load_patient(str(EXAMPLE))
    for text in HOSTILE:
        # Past the input checks, as a data copy's text or a future field might be: the page
        # must still show it literally.
        patient = base.model_copy(update={"id": text, "name": text})
        plan = screen_and_plan(patient, hair, Screener(data), Clinic(), on=date(2026, 11, 22))
        for lang in Lang:
            page = build(
                plan, patient, hair, data, lang=lang, clinic_name=text, clinic_phone=text,
                practitioner=text,
            )  # fmt: skip
            _check_literal(to_markdown(page), [text])


def test_markdown_from_the_command_line_is_literal(tmp_path: Path) -> None:
    patient = write(tmp_path, 'id: "1. Stop warfarin today"\nname: "<b>Ada</b> & [x](http://e)"\n'
                    "age: 40\n")  # fmt: skip
    typed = ["555 & 1. Stop your blood thinner", "# Clinic *Ada*", "Dr. <i>Ada</i> ~~x~~"]
    code, out, err = meso(
        "handout", str(patient), "-p", "hair", "--on", ON, "--phone", typed[0],
        "--clinic", typed[1], "--practitioner", typed[2],
    )  # fmt: skip
    assert code == 0, err
    _check_literal(out, [*typed, "1. Stop warfarin today", "<b>Ada</b> & [x](http://e)"])


def test_a_data_copy_s_own_text_is_printed_literally_and_reported(tmp_path: Path) -> None:
    import shutil

    shipped = Path(__file__).resolve().parent.parent / "data"
    copy = tmp_path / "data"
    shutil.copytree(shipped, copy)
    protocols = copy / "protocols.yaml"
    text = protocols.read_text(encoding="utf-8")
    item = "        text: Take a break from the hair care products used at home.\n"
    assert item in text
    text = text.replace(
        item,
        item + "        sources: [003_f613f02c0b107e94.txt]\n"
        "      - id: hair-extra\n        text: '<b>Rest</b> & [x](http://e) # 1. now'\n",
        1,
    )
    protocols.write_text(text, encoding="utf-8")
    code, out, err = meso(
        "handout", str(EXAMPLE), "-p", "hair", "--on", ON, "--data-dir", str(copy), "--lang", "tr"
    )
    assert code == 0, err
    assert "no tr text for 'care.hair-extra'" in err
    _check_literal(out, ["<b>Rest</b> & [x](http://e) # 1. now"])


# --- nothing written -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "why"),
    [
        ("age: 40\npregnant: true\n", 5, "not eligible (pregnancy)"),
        ("age: 40\nmedications: [warfarin]\n", 3, "review required (anticoagulant)"),
        ("age: 40\nfever: true\n", 4, "deferred with no known end"),
    ],
)
def test_no_plan_writes_nothing_and_exits_with_the_screening_code(
    tmp_path: Path, text: str, code: int, why: str
) -> None:
    patient = write(tmp_path, text)
    target = tmp_path / "h.html"
    got, out, err = meso("handout", str(patient), "-p", "hair", "--on", ON, "-o", str(target))
    assert got == code, err
    assert why in err and "no handout written" in err
    assert out == ""
    assert not target.exists()


def test_output_must_be_markdown_or_html(tmp_path: Path) -> None:
    code, _, err = meso("handout", str(EXAMPLE), "-p", "hair", "-o", str(tmp_path / "h.pdf"))
    assert code == 2
    assert "name a .md or .html file" in err
    assert not (tmp_path / "h.pdf").exists()
