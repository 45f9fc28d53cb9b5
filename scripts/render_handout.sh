#!/usr/bin/env bash
# Render a hair-course handout in headless Chromium and check it prints on one or two A4 pages
# with every date of the plan on them. Leaves handout.html, handout.png (first screen at A4
# size, 96 dpi), handout.pdf and handout-N.png (each printed page) in OUT_DIR.
#
#   scripts/render_handout.sh [OUT_DIR] [PATIENT] [PROTOCOL]
#
# Needs: chromium (apt-get install -y chromium), poppler-utils (pdfinfo, pdftotext, pdftoppm).
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=${1:-$(mktemp -d)}
patient=${2:-examples/patient.yaml}
protocol=${3:-hair}
on=2026-11-22
mkdir -p "$out_dir"
meso=${MESO:-meso}
command -v "$meso" >/dev/null || meso="python3 -m meso_cli"
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chromium" ] || { echo "render_handout: chromium not found" >&2; exit 2; }

$meso handout "$patient" -p "$protocol" --on "$on" --clinic "Clinic Ada" \
    --phone "+90 212 555 0101" -o "$out_dir/handout.html"
$meso plan "$patient" -p "$protocol" --on "$on" --json > "$out_dir/plan.json" || true

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$profile" --hide-scrollbars)
url="file://$(realpath "$out_dir/handout.html")"
"$chromium" "${flags[@]}" --window-size=794,1123 --screenshot="$out_dir/handout.png" "$url" \
    >/dev/null 2>&1
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
if [ "$pages" -lt 1 ] || [ "$pages" -gt 2 ]; then
    echo "FAIL: $pages pages, expected 1 or 2" >&2
    status=1
fi
if command -v pdftotext >/dev/null; then
    pdftotext -layout "$out_dir/handout.pdf" "$out_dir/handout.txt"
    # Every session date and key date of the plan, as the handout spells it.
    python3 - "$out_dir/plan.json" "$out_dir/handout.txt" <<'EOF' || status=1
import json, sys
from datetime import date

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
plan = json.load(open(sys.argv[1]))
text = " ".join(open(sys.argv[2]).read().split())
wanted = [s["date"] for s in plan["sessions"]] + [v for v in plan["key_dates"].values() if v]
missing = []
for iso in wanted:
    d = date.fromisoformat(iso)
    shown = f"{DAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"
    if shown not in text:
        missing.append(shown)
print(f"dates checked in the printed PDF: {len(wanted)}; missing: {missing or 'none'}")
sys.exit(1 if missing else 0)
EOF
fi
echo "files in $out_dir: $(cd "$out_dir" && ls | tr '\n' ' ')"
exit $status
