#!/usr/bin/env bash
# The training benchmark of shared/bench/README.md (m30k-small, throughput settings): a joint
# 8,000-piece unigram vocabulary on train.en + train.de, then 3+3 layers of width 256 trained for at
# most 40 epochs or 45 minutes, validating by BLEU every epoch, patience 5. Writes OUT_DIR/train.log.
# RECIPE=quality: the same architecture with the 45-minute quality recipe of the README (peak
# learning rate 1e-3 after 500 warm-up updates, validation every 230 updates, the last 4 validated
# models averaged into OUT_DIR/run/average.heed), then test2016 BLEU and chrF of it.
# Usage: [RECIPE=quality] tools/bench_train.sh OUT_DIR [SHARED_DIR] [extra heed train options]
set -euo pipefail
outdir=${1:?usage: tools/bench_train.sh OUT_DIR [SHARED_DIR] [options]}
shared=${2:-$(dirname "$0")/../../shared}
shift $(( $# >= 2 ? 2 : 1 ))
data=$shared/data/multi30k
heed=${HEED:-$(dirname "$0")/../build/app/heed}
if [ ! -f "$data/train.en" ]; then
  echo "bench_train: $data/train.en is missing: this benchmark needs the Multi30k data in shared/" >&2
  exit 1
fi
mkdir -p "$outdir"
if [ "${RECIPE:-throughput}" = quality ]; then
  schedule=(--lr 1e-3 --warmup 500 --validate-every 230 --keep-last 4)
else
  schedule=(--lr 5e-4 --warmup 1000)
fi
"$heed" vocab -i "$data/train.en" "$data/train.de" --size 8000 --type unigram -o "$outdir/m30k"
/usr/bin/time -v "$heed" train \
  --train-src "$data/train.en" --train-tgt "$data/train.de" --valid-src "$data/val.en" --valid-tgt "$data/val.de" \
  --vocab "$outdir/m30k.model" -o "$outdir/run" \
  --model-dim 256 --heads 4 --ffn-dim 1024 --encoder-layers 3 --decoder-layers 3 --norm pre --tying all \
  --positions sinusoidal --attention scaled-dot --activation relu --dropout 0.1 --attention-dropout 0.1 \
  --label-smoothing 0.1 "${schedule[@]}" --beta1 0.9 --beta2 0.98 --adam-epsilon 1e-9 --batch-tokens 4096 \
  --max-epochs 40 --max-time 45 --patience 5 --metric bleu "$@" 2>&1 | tee "$outdir/train.log"
if [ "${RECIPE:-throughput}" = quality ]; then
  "$heed" average -o "$outdir/run/average.heed" "$outdir"/run/update-*.heed
  "$heed" -q translate -m "$outdir/run/average.heed" --beam 4 -i "$data/test2016.en" -o "$outdir/test2016.de"
  "$heed" score -r "$data/test2016.de" -i "$outdir/test2016.de" -m bleu,chrf | tee "$outdir/test2016.score"
fi
