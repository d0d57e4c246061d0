#!/usr/bin/env bash
# heed against CTranslate2 on the same weights, with the runs interleaved: for each setting, RUNS
# pairs of whole commands (model load to last line), heed then CTranslate2, and the median of the
# pairs' ratios beside the median times. On a VM whose speed drifts by 10-40% within minutes,
# neighbouring runs are what can be compared; ../shared/tools/ct2/side-by-side runs all of one
# engine's rounds before the other's.
#   usage: tools/bench_vs_ct2.sh [MODEL] [SHARED_DIR]
#   environment: HEED (build/app/heed), RUNS (5), BEAMS ("4 1"), THREADS ("1 2"), PRECISIONS
#                ("f32 int8"), VENV (/var/tmp/heed-ct2-venv, made by side-by-side)
# At 2 threads heed runs its default (2 workers of 1 thread) and CTranslate2 its faster setting
# (2 translators of 1 thread, inter_threads=2); at 1 thread both run one thread.
set -euo pipefail
model=${1:-data/en-de.heed}
shared=${2:-$(dirname "$0")/../../shared}
data=$shared/data/multi30k
ct2_tools=$shared/tools/ct2
heed=${HEED:-$(dirname "$0")/../build/app/heed}
runs=${RUNS:-5}
venv=${VENV:-/var/tmp/heed-ct2-venv}
if [ ! -f "$data/test2016.en" ] || [ ! -f "$ct2_tools/heed_to_ct2.py" ]; then
  echo "bench_vs_ct2: needs $data/test2016.en and $ct2_tools/ (the shared data and tools)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q ctranslate2 sentencepiece sacrebleu numpy >&2
fi
py=$venv/bin/python
work=$(mktemp -d /var/tmp/bench-vs-ct2.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$py" "$ct2_tools/heed_to_ct2.py" "$model" "$work/model" --force >/dev/null
echo "$("$heed" --version | sed -n 3p); $("$py" -c 'import ctranslate2; print("CTranslate2", ctranslate2.__version__)'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| precision | beam | threads | heed s | CTranslate2 s | CTranslate2 / heed (median of pairs) | heed / CT2 peak RSS MB | heed / CT2 BLEU |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
timed() {  # file command...: appends "seconds kilobytes" of one run to file
  local out=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/hyp" 2>/dev/null
  tail -1 "$work/time" >>"$out"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for precision in ${PRECISIONS:-f32 int8}; do
  ct2_type=$([ "$precision" = int8 ] && echo int8_float32 || echo float32)
  for beam in ${BEAMS:-4 1}; do
    for threads in ${THREADS:-1 2}; do
      rm -f "$work/heed.times" "$work/ct2.times"
      for _ in $(seq "$runs"); do
        timed "$work/heed.times" "$heed" -q --threads "$threads" translate -m "$model" -i "$data/test2016.en" --beam "$beam" --precision "$precision"
        cp "$work/hyp" "$work/heed.hyp"
        timed "$work/ct2.times" "$py" "$ct2_tools/ct2_translate.py" "$work/model" -i "$data/test2016.en" -o /dev/stdout --beam "$beam" \
            --compute-type "$ct2_type" --intra-threads 1 --inter-threads "$threads"
      done
      ratio=$(paste "$work/heed.times" "$work/ct2.times" | awk '{print $3 / $1}' | median)
      rss_heed=$(awk '{print $2}' "$work/heed.times" | sort -g | tail -1)
      rss_ct2=$(awk '{print $2}' "$work/ct2.times" | sort -g | tail -1)
      bleu_heed=$("$venv/bin/sacrebleu" "$data/test2016.de" -i "$work/heed.hyp" -b -w 2)
      bleu_ct2=$("$venv/bin/sacrebleu" "$data/test2016.de" -i "$work/hyp" -b -w 2)
      printf '| %s | %s | %s | %s | %s | %.2f | %d / %d | %s / %s |\n' "$precision" "$beam" "$threads" \
        "$(awk '{print $1}' "$work/heed.times" | median)" "$(awk '{print $1}' "$work/ct2.times" | median)" "$ratio" \
        $((rss_heed / 1024)) $((rss_ct2 / 1024)) "$bleu_heed" "$bleu_ct2"
    done
  done
done
