#!/usr/bin/env bash
# Translation speed and memory with workers against threads: test2016 (shared/data/multi30k),
# beam 4 and greedy, `--workers 1 --threads 2` against `--workers 2 --threads 2` (and one thread),
# rounds interleaved so that a busy moment hurts every row alike; medians of wall seconds and peak
# RSS (GNU time). Usage: tools/bench_translate_workers.sh [MODEL] [SHARED_DIR] [ROUNDS]
set -euo pipefail
here=$(dirname "$0")
heed=${HEED:-$here/../build/app/heed}
model=${1:-$here/../build/share/heed/en-de.heed}
shared=${2:-$here/../../shared}
rounds=${3:-3}
input=$shared/data/multi30k/test2016.en
if [ ! -f "$input" ]; then
  echo "bench_translate_workers: $input is missing: this benchmark reads Multi30k from shared/" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
configs=("--beam 4 --workers 1:2" "--beam 4 --workers 2:2" "--beam 4 --workers 1:1"
         "--beam 1 --workers 1:2" "--beam 1 --workers 2:2")
for ((r = 0; r < rounds; ++r)); do
  for i in "${!configs[@]}"; do
    options=${configs[$i]%:*} threads=${configs[$i]#*:}
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %M" -o "$out/time" "$heed" -q --threads "$threads" translate -m "$model" $options \
      -i "$input" -o "$out/hyp.$i"
    echo "$(cat "$out/time")" >> "$out/times.$i"
  done
done
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "load: $(uptime)"
echo "$("$heed" --version | grep CPU)"
echo
echo "| options | threads | wall s (median of $rounds) | sentences/s | peak RSS MB |"
echo "|---|---:|---:|---:|---:|"
for i in "${!configs[@]}"; do
  options=${configs[$i]%:*} threads=${configs[$i]#*:}
  seconds=$(cut -d' ' -f1 "$out/times.$i" | median)
  rss=$(cut -d' ' -f2 "$out/times.$i" | median)
  lines=$(wc -l < "$input")
  echo "| $options | $threads | $seconds | $(awk -v n="$lines" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}') | $((rss / 1024)) |"
done
cmp -s "$out/hyp.0" "$out/hyp.1" && cmp -s "$out/hyp.0" "$out/hyp.2" &&
  echo "beam 4: the same output with 1 or 2 workers and 1 or 2 threads" ||
  echo "beam 4: outputs differ between workers/threads"
