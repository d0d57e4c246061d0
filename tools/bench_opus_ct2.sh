#!/usr/bin/env bash
# heed against CTranslate2 at OPUS-MT's size, on the same weights: a MarianMTModel folder
# (tools/make_opus_size_model.py: random weights, 6+6 layers of width 512, 58,101 pieces, end of
# sentence never chosen) converted by `heed convert --from huggingface` and by CTranslate2's
# ct2-transformers-converter; both translate the same lines to the same fixed length (OUT_LEN
# pieces), so they do the same work. For each setting, RUNS pairs of whole commands (model load to
# last line), heed then CTranslate2, interleaved; medians and the median of the pairs' ratios.
# At 2 threads each engine runs each of its setups (heed: 2 workers of 1 thread, 1 worker of 2;
# CTranslate2: inter_threads 2 × intra 1, 1 × 2) and the faster one's median is reported.
#   usage: tools/bench_opus_ct2.sh HF_FOLDER INPUT
#   environment: HEED (build/app/heed), RUNS (3), OUT_LEN (32), BEAMS ("4 1"), PRECISIONS ("f32 int8"),
#                VENV (a venv with ctranslate2 and sentencepiece: /var/tmp/heed-ct2-venv),
#                CONVERTER (ct2-transformers-converter of a venv with transformers and torch)
set -euo pipefail
folder=${1:?usage: tools/bench_opus_ct2.sh HF_FOLDER INPUT}
input=${2:?usage: tools/bench_opus_ct2.sh HF_FOLDER INPUT}
heed=${HEED:-$(dirname "$0")/../build/app/heed}
runs=${RUNS:-3}
out_len=${OUT_LEN:-32}
venv=${VENV:-/var/tmp/heed-ct2-venv}
converter=${CONVERTER:-/var/tmp/heed-hf-venv/bin/ct2-transformers-converter}
ct2_translate=$(dirname "$0")/ct2_marian_translate.py
work=$(mktemp -d /var/tmp/bench-opus-ct2.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$heed" -q convert --from huggingface "$folder" -o "$work/f32.heed" --precision f32
"$heed" -q convert --from huggingface "$folder" -o "$work/int8.heed" --precision int8
"$converter" --model "$folder" --output_dir "$work/ct2" --force >/dev/null 2>&1

echo "$("$heed" --version | sed -n 3p); $("$venv/bin/python" -c 'import ctranslate2; print("CTranslate2", ctranslate2.__version__)'); $(wc -l < "$input") lines to $out_len pieces each; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| precision | beam | threads | heed s (setup) | CTranslate2 s (setup) | CTranslate2 / heed | heed / CT2 peak RSS MB | same output lines |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
timed() {  # name command...: appends "seconds kilobytes" of one run to $work/name.times, keeps its output
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/$name.out" 2>/dev/null
  tail -1 "$work/time" >>"$work/$name.times"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
column_median() { awk "{print \$$2}" "$work/$1.times" | median; }
for precision in ${PRECISIONS:-f32 int8}; do
  ct2_type=$([ "$precision" = int8 ] && echo int8_float32 || echo float32)
  for beam in ${BEAMS:-4 1}; do
    for threads in 1 2; do
      if [ "$threads" = 1 ]; then heed_setups="1"; ct2_setups="1x1"; else heed_setups="2 1"; ct2_setups="2x1 1x2"; fi
      rm -f "$work"/*.times
      for _ in $(seq "$runs"); do
        for workers in $heed_setups; do
          timed "heed-w$workers" "$heed" -q --threads "$threads" translate -m "$work/$precision.heed" -i "$input" \
              --beam "$beam" --split-sentences none --max-output-length "$out_len" --max-length-factor 1000 --workers "$workers"
        done
        for setup in $ct2_setups; do
          timed "ct2-$setup" "$venv/bin/python" "$ct2_translate" "$work/ct2" "$folder" -i "$input" --beam "$beam" \
              --compute-type "$ct2_type" --inter-threads "${setup%x*}" --intra-threads "${setup#*x}" \
              --max-decoding-length "$out_len"
        done
      done
      best() {  # prefix setups...: the setup with the lowest median
        local prefix=$1; shift
        for s in "$@"; do echo "$(column_median "$prefix$s" 1) $s"; done | sort -g | head -1
      }
      read -r heed_s heed_setup <<<"$(best heed-w $heed_setups)"
      read -r ct2_s ct2_setup <<<"$(best ct2- $ct2_setups)"
      ratio=$(paste "$work/heed-w$heed_setup.times" "$work/ct2-$ct2_setup.times" | awk '{print $3 / $1}' | median)
      rss_heed=$(awk '{print $2}' "$work/heed-w$heed_setup.times" | sort -g | tail -1)
      rss_ct2=$(awk '{print $2}' "$work/ct2-$ct2_setup.times" | sort -g | tail -1)
      # The unused pieces decode differently (heed keeps their text, SentencePiece marks them
      # unknown): lines are compared with spaces and word marks removed.
      same=$(paste -d'\t' <(tr -d ' \342\226\201' < "$work/heed-w$heed_setup.out") \
                          <(tr -d ' \342\226\201' < "$work/ct2-$ct2_setup.out") | awk -F'\t' '$1 == $2' | wc -l)
      printf '| %s | %s | %s | %s (%s) | %s (%s) | %.2f | %d / %d | %d of %d |\n' "$precision" "$beam" "$threads" \
        "$heed_s" "$heed_setup worker(s)" "$ct2_s" "$ct2_setup" "$ratio" $((rss_heed / 1024)) $((rss_ct2 / 1024)) \
        "$same" "$(wc -l < "$input")"
    done
  done
done
