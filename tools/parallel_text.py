"""Helpers the corpus builders share (tools/make_general_corpus.py, tools/make_hansards_corpus.py):
reading and writing parallel text, and holding out test sentences."""
import gzip
import os
import re


def read_lines(path):
    # Words are what aligners and `heed train --guided-alignment` count between spaces: a
    # no-break space would be a word boundary to eflomal and none to heed.
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [" ".join(line.split()) for line in f]


def read_pair(path_a, path_b):
    a, b = read_lines(path_a), read_lines(path_b)
    if len(a) != len(b):
        raise SystemExit(f"{path_a} has {len(a)} lines but {path_b} has {len(b)}")
    return list(zip(a, b))


def sentence_key(text):
    """Case- and punctuation-blind, so that "Run!" and "run." count as one sentence."""
    return re.sub(r"[\W_]+", "", text.lower())


def write_pair(pairs, out_dir, name, languages):
    with open(os.path.join(out_dir, f"{name}.{languages[0]}"), "w", encoding="utf-8") as a, \
         open(os.path.join(out_dir, f"{name}.{languages[1]}"), "w", encoding="utf-8") as b:
        for s, t in pairs:
            a.write(s + "\n")
            b.write(t + "\n")


def held_out(pairs, count, rng):
    """`count` pairs with distinct source keys, shuffled, and the pairs left once every pair
    sharing either side's key with one of them is removed."""
    keys = sorted({sentence_key(s) for s, _ in pairs if sentence_key(s)})
    chosen = set(rng.sample(keys, count))
    held, seen = [], set()
    for s, t in pairs:
        k = sentence_key(s)
        if k in chosen and k not in seen:
            seen.add(k)
            held.append((s, t))
    held_targets = {sentence_key(t) for _, t in held}
    rest = [(s, t) for s, t in pairs if sentence_key(s) not in chosen and sentence_key(t) not in held_targets]
    rng.shuffle(held)
    return held, rest
