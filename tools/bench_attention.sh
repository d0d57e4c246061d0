#!/usr/bin/env bash
# heed bench attention with its plot as a PNG: writes OUT_DIR/attention.md (the table and the
# slopes), OUT_DIR/attention.svg and, where headless Chromium is installed (Debian's `chromium`),
# OUT_DIR/attention.png rendered from the SVG.
# Usage: tools/bench_attention.sh OUT_DIR [heed bench attention options]
set -euo pipefail
outdir=${1:?usage: tools/bench_attention.sh OUT_DIR [options]}
shift
heed=${HEED:-$(dirname "$0")/../build/app/heed}
mkdir -p "$outdir"
"$heed" --version | sed -n '3,4p' >&2
"$heed" bench attention --svg "$outdir/attention.svg" "$@" | tee "$outdir/attention.md"
if command -v chromium > /dev/null; then
  # The SVG is 940 × 410 pixels; the screenshot is taken at that window size.
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=940,410 \
    --screenshot="$outdir/attention.png" "file://$(realpath "$outdir/attention.svg")" 2> /dev/null
  echo "bench_attention: wrote $outdir/attention.png" >&2
else
  echo "bench_attention: no chromium here (apt-get install chromium): the plot is $outdir/attention.svg only" >&2
fi
