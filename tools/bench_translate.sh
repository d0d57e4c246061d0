#!/usr/bin/env bash
# The translation benchmark of shared/bench/README.md (m30k-small): test2016 English→German with
# 2 threads and 1 thread, beam 4 and beam 1, batches of 32 sentences; BLEU and chrF by `heed score`,
# wall time and peak RSS by /usr/bin/time. Usage: tools/bench_translate.sh MODEL [SHARED_DIR]
set -euo pipefail
model=${1:?usage: tools/bench_translate.sh MODEL [SHARED_DIR]}
shared=${2:-$(dirname "$0")/../../shared}
data=$shared/data/multi30k
heed=${HEED:-$(dirname "$0")/../build/app/heed}
if [ ! -f "$data/test2016.en" ]; then
  echo "bench_translate: $data/test2016.en is missing: this benchmark needs the Multi30k data in shared/" >&2
  exit 1
fi
[ -x /usr/bin/time ] || { echo "bench_translate: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "load: $(uptime)"
echo
echo "| beam | threads | BLEU | chrF | wall s | sentences/s | target tokens/s | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for beam in 4 1; do
  for threads in 2 1; do
    /usr/bin/time -v "$heed" --threads "$threads" translate -m "$model" -i "$data/test2016.en" -o "$out/hyp" \
        --beam "$beam" --batch-sentences 32 2> "$out/log"
    wall=$(grep -oP 'in \K[0-9.]+(?= s:)' "$out/log")
    sps=$(grep -oP '[0-9.]+(?= sentences/s)' "$out/log")
    tps=$(grep -oP '[0-9]+(?= target tokens/s)' "$out/log")
    rss=$(grep -oP 'Maximum resident set size \(kbytes\): \K[0-9]+' "$out/log")
    scores=$("$heed" -q score -m bleu,chrf -r "$data/test2016.de" -i "$out/hyp")
    bleu=$(echo "$scores" | grep -oP '^BLEU\|[^=]* = \K[0-9.]+')
    chrf=$(echo "$scores" | grep -oP '^chrF2\|.* = \K[0-9.]+')
    echo "| $beam | $threads | $bleu | $chrf | $wall | $sps | $tps | $((rss / 1024)) |"
  done
done
