#!/usr/bin/env python3
"""Builds the English-French corpus the shipped en-fr and fr-en models are trained on, from
../shared/data: the Canadian Hansards (36th Parliament) and Tatoeba's everyday sentences.

Writes into OUT_DIR:
  train.{en,fr}          the text of the alignment gold and trial sets first (447 + 37 lines,
                         sentences only, never their links: the text statistical aligners are
                         run on too), then the Hansards less the held-out block, then Tatoeba
                         less its held-out sentences
  valid.{en,fr}          500 Hansards pairs of the held-out block and 500 held-out Tatoeba pairs,
                         interleaved, so that a partial BLEU validation sees both kinds of text
  hansards-test.{en,fr}  the last 2,000 Hansards pairs: a contiguous block (whole sittings), held
                         out from training and validation
  tatoeba-test.{en,fr}   2,000 held-out Tatoeba pairs: distinct English sentences, none of which
                         (nor any of its other translations) is in train, compared case- and
                         punctuation-blind so that "Run!" and "run." count as one sentence
The Hansards' held-out block is the corpus's last 2,500 pairs (valid: its first 500). The
selection is seeded and so the same on every machine.
Usage: tools/make_hansards_corpus.py SHARED_DATA_DIR OUT_DIR
"""
import os
import random
import sys

from parallel_text import held_out, read_pair, write_pair

HANSARDS_VALID = 500
HANSARDS_TEST = 2000
TATOEBA_VALID = 500
TATOEBA_TEST = 2000


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    shared, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    gold = read_pair(f"{shared}/align/enfr/enfr.en", f"{shared}/align/enfr/enfr.fr")
    trial = read_pair(f"{shared}/align/enfr-trial/trial.en", f"{shared}/align/enfr-trial/trial.fr")
    hansards = read_pair(f"{shared}/hansards-enfr/train.en.gz", f"{shared}/hansards-enfr/train.fr.gz")
    tatoeba = read_pair(f"{shared}/tatoeba/en-fr/train.en.gz", f"{shared}/tatoeba/en-fr/train.fr.gz")

    block = len(hansards) - HANSARDS_VALID - HANSARDS_TEST
    hansards_train, hansards_valid, hansards_test = hansards[:block], hansards[block:block + HANSARDS_VALID], \
        hansards[block + HANSARDS_VALID:]
    rng = random.Random(2026)
    tatoeba_held, tatoeba_train = held_out(tatoeba, TATOEBA_VALID + TATOEBA_TEST, rng)
    tatoeba_valid, tatoeba_test = tatoeba_held[:TATOEBA_VALID], tatoeba_held[TATOEBA_VALID:]

    train = gold + trial + hansards_train + tatoeba_train
    write_pair(train, out_dir, "train", ("en", "fr"))
    write_pair([p for pair in zip(hansards_valid, tatoeba_valid) for p in pair], out_dir, "valid", ("en", "fr"))
    write_pair(hansards_test, out_dir, "hansards-test", ("en", "fr"))
    write_pair(tatoeba_test, out_dir, "tatoeba-test", ("en", "fr"))
    print(f"train {len(train)} pairs (gold and trial text {len(gold) + len(trial)}, Hansards lines 1-{block} "
          f"of {len(hansards)}, Tatoeba {len(tatoeba_train)} of {len(tatoeba)}); valid {HANSARDS_VALID}+{TATOEBA_VALID}; "
          f"hansards-test lines {block + HANSARDS_VALID + 1}-{len(hansards)}; tatoeba-test {len(tatoeba_test)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
