#!/usr/bin/env bash
# The whole English-French alignment comparison in one command: alignment error rate, precision
# and recall on the 447 Hansards sentences with gold links (shared/data/align/enfr, 1-based) for
# eflomal trained on the same text as the models, for each extraction and symmetrisation `heed
# align` offers, and with the reverse model; then BLEU of both models on the held-out Hansards
# block.
#   usage: tools/bench_align.sh EN_FR_MODEL [FR_EN_MODEL] [SHARED_DIR]
#   environment:
#     CORPUS   the folder tools/make_hansards_corpus.py wrote (train.{en,fr} begins with the gold
#              and trial sentences' text; hansards-test.{en,fr}): eflomal is trained on train.*
#              and BLEU measured on hansards-test.*; without it, neither is run
#     EFLOMAL  eflomal-align (default: the one on PATH; pip install eflomal); skipped if absent
#     EFLOMAL_LINKS  a folder with efl.fwd and efl.rev from an earlier run on CORPUS: read, not rerun
#     SET      test (default: the 447-sentence gold) or trial (the 37-sentence set for choosing
#              settings, shared/data/align/enfr-trial)
#     HEED     the heed binary (build/app/heed)
# Models must know the text: statistical aligners are run on the gold sentences' text beside
# their training corpus, and the models here are trained on that text (never the gold links).
set -euo pipefail
forward=${1:?usage: tools/bench_align.sh EN_FR_MODEL [FR_EN_MODEL] [SHARED_DIR]}
reverse=${2:-}
shared=${3:-$(dirname "$0")/../../shared}
heed=${HEED:-$(dirname "$0")/../build/app/heed}
symmetrize=$(dirname "$0")/symmetrize_links.py
corpus=${CORPUS:-}
eflomal=${EFLOMAL:-$(command -v eflomal-align || true)}
if [ "${SET:-test}" = trial ]; then
  gold_dir=$shared/data/align/enfr-trial; src=$gold_dir/trial.en; tgt=$gold_dir/trial.fr; links=$gold_dir/trial.talp
  first=448; count=37  # where the trial sentences stand in CORPUS's train.*
else
  gold_dir=$shared/data/align/enfr; src=$gold_dir/enfr.en; tgt=$gold_dir/enfr.fr; links=$gold_dir/enfr.talp
  first=1; count=447
fi
if [ ! -f "$links" ]; then
  echo "bench_align: $links is missing: this benchmark needs the gold alignments in shared/" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

score() {  # score LABEL LINKS_FILE: one table row
  local result
  result=$("$heed" score -m aer --gold "$links" --one-based -i "$2")
  echo "| $1 | $(echo "$result" | grep -oP 'AER = \K[0-9.]+') | $(echo "$result" | grep -oP 'precision \K[0-9.]+') | $(echo "$result" | grep -oP 'recall \K[0-9.]+') |"
}
row() {  # row LABEL heed-align-options...
  local label=$1
  shift
  "$heed" -q align -m "$forward" --src "$src" --tgt "$tgt" "$@" > "$out/links"
  score "$label" "$out/links"
}

echo "$("$heed" --version | sed -n 3p); load: $(cut -d' ' -f1-3 /proc/loadavg); gold: $links"
layers=$("$heed" -q info "$forward" | grep -oP '^decoder-layers = \K[0-9]+')
last=$((layers - 1))
guided=$("$heed" -q info "$forward" | grep -oP '^alignment-layer = \K[0-9]+' || true)
step=$("$heed" -q info "$forward" | grep -oP '^alignment-step = \K[a-z]+' || echo predict)
other_step=$([ "$step" = shift ] && echo predict || echo shift)
# The symmetrisation `heed align` uses unless told: the model's (heed convert --symmetrize), else grow-diag.
tuned=$("$heed" -q info "$forward" | grep -oP '^align-symmetrize=\K\S+' || echo grow-diag)
echo "model: $forward${guided:+ (guided head in decoder layer $guided, $step step)}${reverse:+; reverse model: $reverse}"
echo
echo "| aligner, extraction | AER | precision | recall |"
echo "|---|---:|---:|---:|"
if [ -n "$corpus" ] && { [ -n "$eflomal" ] || [ -n "${EFLOMAL_LINKS:-}" ]; }; then
  if [ -n "${EFLOMAL_LINKS:-}" ]; then
    cp "$EFLOMAL_LINKS/efl.fwd" "$EFLOMAL_LINKS/efl.rev" "$out/"
  else
    # eflomal as a user runs it: defaults, both directions, on the models' training text.
    "$eflomal" -s "$corpus/train.en" -t "$corpus/train.fr" -f "$out/efl.fwd" -r "$out/efl.rev" 2>/dev/null
  fi
  for s in intersection grow-diag grow-diag-final-and union; do
    python3 "$symmetrize" "$out/efl.fwd" "$out/efl.rev" "$s" | sed -n "${first},$((first + count - 1))p" > "$out/efl"
    score "eflomal, $s" "$out/efl"
  done
  sed -n "${first},$((first + count - 1))p" "$out/efl.fwd" > "$out/efl"
  score "eflomal, forward only" "$out/efl"
fi
row "heed, default ($([ -n "$guided" ] && echo "the guided head" || echo "all layers, heads averaged"), $tuned)"
if [ -n "$guided" ]; then
  row "heed, unguided: all layers, heads averaged, $tuned" --layers "$(seq -s, 0 $last)" --head -1
fi
for l in $(seq 0 $last); do row "heed, layer $l, heads averaged, $tuned" --layers "$l" --head -1; done
for s in intersection union grow-diag grow-diag-final-and; do
  [ "$s" = "$tuned" ] || row "heed, default, $s" --symmetrize "$s"
done
row "heed, default, --step $other_step" --step "$other_step"
if [ -n "$reverse" ]; then
  row "heed with --reverse-model, default ($tuned)" --reverse-model "$reverse"
  for s in intersection union grow-diag grow-diag-final-and; do
    row "heed with --reverse-model, $s" --reverse-model "$reverse" --symmetrize "$s"
  done
fi
if [ -n "$corpus" ]; then
  echo
  sets=$(for set in hansards-test tatoeba-test; do [ -f "$corpus/$set.en" ] && echo "$set"; done)
  echo "| model |$(for set in $sets; do echo -n " BLEU / chrF on $set ($(wc -l < "$corpus/$set.en") held-out pairs) |"; done)"
  echo "|---|$(for set in $sets; do printf "%s" "---:|"; done)"
  for pair in "en fr $forward" ${reverse:+"fr en $reverse"}; do
    read -r s t model <<<"$pair"
    cells=""
    for set in $sets; do
      "$heed" -q translate -m "$model" -i "$corpus/$set.$s" --split-sentences none > "$out/hyp"
      bleu=$("$heed" score -r "$corpus/$set.$t" -i "$out/hyp" -m bleu | grep -oP '^BLEU\S* = \K[0-9.]+')
      chrf=$("$heed" score -r "$corpus/$set.$t" -i "$out/hyp" -m chrf | grep -oP '^chrF\S* = \K[0-9.]+')
      cells="$cells $bleu / $chrf |"
    done
    echo "| $s→$t $model |$cells"
  done
fi
