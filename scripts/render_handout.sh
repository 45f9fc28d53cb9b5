#!/usr/bin/env bash
# Render a handout in headless Chromium and check it as printed on A4: a hair course on one
# page, any other on one or two; "When to call the clinic" and the clinic's phone on the same
# page; every date still to come on it, as the handout spells it in its language. Leaves
# handout.html, handout.png (first screen at A4 size, 96 dpi), handout.pdf and handout-N.png
# (each printed page) in OUT_DIR.
#
#   scripts/render_handout.sh [OUT_DIR] [PATIENT] [PROTOCOL] [LANG] [MORE PLAN OPTIONS...]
#   scripts/render_handout.sh /tmp/h examples/patient.yaml cellulite tr --per-week 2 --sessions 16
#
# Needs: chromium (apt-get install -y chromium), poppler-utils (pdfinfo, pdftotext, pdftoppm).
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=${1:-$(mktemp -d)}
patient=${2:-examples/patient.yaml}
protocol=${3:-hair}
lang=${4:-en}
shift $(( $# < 4 ? $# : 4 ))
on=2026-11-22
phone="+90 212 555 0101"
mkdir -p "$out_dir"
python=${PYTHON:-}
[ -n "$python" ] || { [ -x .venv/bin/python ] && python=.venv/bin/python || python=python3; }
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chromium" ] || { echo "render_handout: chromium not found" >&2; exit 2; }

"$python" -m meso_cli handout "$patient" -p "$protocol" --on "$on" --lang "$lang" \
    --clinic "Clinic Ada" --phone "$phone" --practitioner "Dr. Ada Kaya" "$@" \
    -o "$out_dir/handout.html"
"$python" -m meso_cli plan "$patient" -p "$protocol" --on "$on" --json "$@" \
    > "$out_dir/plan.json" || true

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --hide-scrollbars)
url="file://$(realpath "$out_dir/handout.html")"
if [ "${SCREENSHOT:-1}" != 0 ]; then  # SCREENSHOT=0: the printed pages only
    "$chromium" "${flags[@]}" --window-size=794,1123 --screenshot="$out_dir/handout.png" "$url" \
        >/dev/null 2>&1
fi
"$chromium" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$out_dir/handout.pdf" "$url" \
    >/dev/null 2>&1

if command -v pdfinfo >/dev/null; then
    pages=$(pdfinfo "$out_dir/handout.pdf" | awk '/^Pages:/ {print $2}')
    size=$(pdfinfo "$out_dir/handout.pdf" | awk -F': *' '/^Page size:/ {print $2}')
else
    pages=$(grep -a -c '/Type */Page[^s]' "$out_dir/handout.pdf" || true)
    size="(pdfinfo missing)"
fi
echo "pages: $pages; page size: $size"
command -v pdftoppm >/dev/null && pdftoppm -r 60 -png "$out_dir/handout.pdf" "$out_dir/handout"

status=0
most=2
[ "$protocol" = hair ] && most=1
if [ "$pages" -lt 1 ] || [ "$pages" -gt "$most" ]; then
    echo "FAIL: $pages pages, expected 1 to $most" >&2
    status=1
fi
if command -v pdftotext >/dev/null; then
    for ((n = 1; n <= pages; n++)); do
        pdftotext -layout -f "$n" -l "$n" "$out_dir/handout.pdf" "$out_dir/handout-page-$n.txt"
    done
    "$python" - "$out_dir" "$pages" "$lang" "$phone" <<'EOF' || status=1
import json, sys
from datetime import date
from pathlib import Path

from meso_cli.render.catalogue import CATALOGUES, Lang
from meso_cli.render.handout import day

out, pages, lang, phone = Path(sys.argv[1]), int(sys.argv[2]), Lang(sys.argv[3]), sys.argv[4]
texts = [" ".join((out / f"handout-page-{n}.txt").read_text().split()) for n in range(1, pages + 1)]
plan = json.loads((out / "plan.json").read_text())
today = date.fromisoformat(plan["screening"]["reference_date"])
wanted = [s["date"] for s in plan["sessions"]] + [v for v in plan["key_dates"].values() if v]
shown = [day(date.fromisoformat(d), lang) for d in wanted if date.fromisoformat(d) >= today]
missing = [d for d in shown if not any(d in t for t in texts)]
print(f"dates checked in the printed PDF: {len(shown)}; missing: {missing or 'none'}")
heading = CATALOGUES[lang]["heading.call"]
call = [n for n, t in enumerate(texts, 1) if heading in t]
phoned = [n for n, t in enumerate(texts, 1) if phone in t]
print(f"'{heading}' on page {call}, the phone on page {phoned}")
together = len(call) == 1 and call == phoned
if not together:
    print("FAIL: the call list and the phone are not on one page", file=sys.stderr)
sys.exit(0 if together and not missing else 1)
EOF
fi
echo "files in $out_dir: $(cd "$out_dir" && ls | tr '\n' ' ')"
exit $status
