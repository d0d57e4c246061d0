#!/usr/bin/env bash
# Alignment error rate of heed's attention alignments on the 447 English-French Hansards
# sentences with gold links (shared/data/align/enfr, gold 1-based), for each extraction and
# symmetrisation `heed align` offers, and with a reverse model when one is given.
# Usage: tools/bench_align.sh EN_FR_MODEL [FR_EN_MODEL] [SHARED_DIR]
# The models must know the text: the benchmark trains them on Multi30k en-fr plus these 447
# sentences (without their gold links), as statistical aligners are run on them (see README).
set -euo pipefail
forward=${1:?usage: tools/bench_align.sh EN_FR_MODEL [FR_EN_MODEL] [SHARED_DIR]}
reverse=${2:-}
shared=${3:-$(dirname "$0")/../../shared}
gold=$shared/data/align/enfr
heed=${HEED:-$(dirname "$0")/../build/app/heed}
if [ ! -f "$gold/enfr.talp" ]; then
  echo "bench_align: $gold/enfr.talp is missing: this benchmark needs the gold alignments in shared/" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
layers=$("$heed" -q info "$forward" | grep -oP '^decoder-layers = \K[0-9]+')
last=$((layers - 1))
guided=$("$heed" -q info "$forward" | grep -oP '^alignment-layer = \K[0-9]+' || true)
step=$("$heed" -q info "$forward" | grep -oP '^alignment-step = \K[a-z]+' || echo predict)
other_step=$([ "$step" = shift ] && echo predict || echo shift)

row() {  # row LABEL heed-align-options...
  local label=$1
  shift
  "$heed" -q align -m "$forward" --src "$gold/enfr.en" --tgt "$gold/enfr.fr" "$@" > "$out/links"
  local score
  score=$("$heed" score -m aer --gold "$gold/enfr.talp" --one-based -i "$out/links")
  echo "| $label | $(echo "$score" | grep -oP 'AER = \K[0-9.]+') | $(echo "$score" | grep -oP 'precision \K[0-9.]+') | $(echo "$score" | grep -oP 'recall \K[0-9.]+') |"
}

echo "load: $(uptime)"
echo "model: $forward${guided:+ (guided head in decoder layer $guided, $step step)}${reverse:+; reverse model: $reverse}"
echo
echo "| extraction | AER | precision | recall |"
echo "|---|---:|---:|---:|"
row "default ($([ -n "$guided" ] && echo "the guided head" || echo "all layers, heads averaged"), grow-diag)"
if [ -n "$guided" ]; then
  row "all layers, heads averaged, grow-diag" --layers "$(seq -s, 0 $last)" --head -1
fi
for l in $(seq 0 $last); do row "layer $l, heads averaged" --layers "$l" --head -1; done
row "last layer, head 0 (Marian's default)" --layers "$last" --head 0
for s in intersection union grow-diag-final-and; do row "default, $s" --symmetrize "$s"; done
row "default, --step $other_step" --step "$other_step"
if [ -n "$reverse" ]; then
  for s in intersection union grow-diag grow-diag-final-and; do row "with --reverse-model, $s" --reverse-model "$reverse" --symmetrize "$s"; done
fi
