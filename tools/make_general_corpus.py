#!/usr/bin/env python3
"""Builds the English-German corpus the shipped en-de and de-en models are trained on, from
../shared/data: Multi30k's captions, Tatoeba's everyday sentences and the WMT news test sets.

Writes into OUT_DIR:
  train.{en,de}          Multi30k train (twice), Tatoeba less the held-out sentences, news 2008-2011
                         (twice): captions and news are small beside Tatoeba, so they are repeated
                         to keep their share of the updates
  valid.{en,de}          Multi30k val and the first 1,000 lines of newstest2013, interleaved, so
                         that the first N sentences of a partial BLEU validation mix both domains
  tatoeba-test.{en,de}   2,000 held-out Tatoeba pairs: distinct English sentences, none of which
                         (nor any of its other translations) is in train, compared case- and
                         punctuation-blind so that "Run!" and "run." count as one sentence
  newstest2012.{en,de}   the held-out news test set, copied for convenience
The selection is seeded and so the same on every machine.
Usage: tools/make_general_corpus.py SHARED_DATA_DIR OUT_DIR
"""
import os
import random
import sys

from parallel_text import held_out, read_pair, write_pair

TATOEBA_TEST_SIZE = 2000
NEWS_VALID_LINES = 1000


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    shared, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    multi30k = read_pair(f"{shared}/multi30k/train.en", f"{shared}/multi30k/train.de")
    tatoeba = read_pair(f"{shared}/tatoeba/en-de/train.en.gz", f"{shared}/tatoeba/en-de/train.de.gz")
    news_names = ["news-test2008", "newstest2009", "newstest2010", "newstest2011"]
    news = [p for n in news_names
            for p in read_pair(f"{shared}/news/de-en/{n}.en", f"{shared}/news/de-en/{n}.de")]

    # Held-out English sentences: every pair whose English or German side shares a key with a
    # test pair leaves train.
    rng = random.Random(2026)
    test, tatoeba_train = held_out(tatoeba, TATOEBA_TEST_SIZE, rng)

    train = multi30k * 2 + tatoeba_train + news * 2
    rng.shuffle(train)
    write_pair(train, out_dir, "train", ("en", "de"))

    val = read_pair(f"{shared}/multi30k/val.en", f"{shared}/multi30k/val.de")
    news_val = read_pair(f"{shared}/news/de-en/newstest2013.en",
                         f"{shared}/news/de-en/newstest2013.de")[:NEWS_VALID_LINES]
    interleaved = [p for pair in zip(val, news_val) for p in pair]
    interleaved += val[len(news_val):] + news_val[len(val):]
    write_pair(interleaved, out_dir, "valid", ("en", "de"))
    write_pair(test, out_dir, "tatoeba-test", ("en", "de"))
    write_pair(read_pair(f"{shared}/news/de-en/newstest2012.en",
                         f"{shared}/news/de-en/newstest2012.de"), out_dir, "newstest2012", ("en", "de"))
    print(f"train {len(train)} pairs (Multi30k {len(multi30k)} x2, Tatoeba {len(tatoeba_train)} "
          f"of {len(tatoeba)}, news {len(news)} x2); valid {len(interleaved)}; "
          f"tatoeba-test {len(test)}", file=sys.stderr)


if __name__ == "__main__":
    main()
