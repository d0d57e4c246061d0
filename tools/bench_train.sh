#!/usr/bin/env bash
# The training benchmark of shared/bench/README.md (m30k-small, throughput settings): a joint
# 8,000-piece unigram vocabulary on train.en + train.de, then 3+3 layers of width 256 trained for at
# most 40 epochs or 45 minutes, validating by BLEU every epoch, patience 5. Writes OUT_DIR/train.log.
# Usage: tools/bench_train.sh OUT_DIR [SHARED_DIR] [extra heed train options]
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
"$heed" vocab -i "$data/train.en" "$data/train.de" --size 8000 --type unigram -o "$outdir/m30k"
/usr/bin/time -v "$heed" train \
  --train-src "$data/train.en" --train-tgt "$data/train.de" --valid-src "$data/val.en" --valid-tgt "$data/val.de" \
  --vocab "$outdir/m30k.model" -o "$outdir/run" \
  --model-dim 256 --heads 4 --ffn-dim 1024 --encoder-layers 3 --decoder-layers 3 --norm pre --tying all \
  --positions sinusoidal --attention scaled-dot --activation relu --dropout 0.1 --attention-dropout 0.1 \
  --label-smoothing 0.1 --lr 5e-4 --warmup 1000 --beta1 0.9 --beta2 0.98 --adam-epsilon 1e-9 --batch-tokens 4096 \
  --max-epochs 40 --max-time 45 --patience 5 --metric bleu "$@" 2>&1 | tee "$outdir/train.log"
