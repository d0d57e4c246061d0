#!/usr/bin/env bash
# Writes the expected scores in tests/fixtures/score/ with sacreBLEU itself (pip install sacrebleu==2.6.0).
# The hypothesis/reference pair there mixes Multi30k validation lines (de, fr, cs) with perturbed
# copies and hand-made lines for tokenisation, numbers, HTML entities, whitespace and Unicode.
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures/score"
run() { sacrebleu ref.txt -i hyp.txt -m bleu chrf -w 2 -f text "$@" | sed 's/^ *//'; }
run > expected-default.txt
run --lowercase > expected-lowercase.txt
run --tokenize none > expected-tokenize-none.txt
run --tokenize intl > expected-tokenize-intl.txt
