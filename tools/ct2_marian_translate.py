#!/usr/bin/env python3
"""Translate a file with a CTranslate2 model converted from a MarianMTModel folder
(ct2-transformers-converter), as transformers' MarianTokenizer feeds it: the folder's source.spm
cuts each line, </s> is appended, and the output pieces are joined by target.spm. Used by
tools/bench_opus_ct2.sh to time CTranslate2 beside heed on the same weights.

  ct2_marian_translate.py CT2_DIR HF_FOLDER -i INPUT [--beam 4] [--compute-type float32]
      [--inter-threads 1] [--intra-threads 1] [--max-batch-size 32] [--max-decoding-length 256]
"""

import argparse
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ct2_dir")
    ap.add_argument("hf_folder")
    ap.add_argument("-i", "--input", default="-")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--compute-type", default="float32")
    ap.add_argument("--inter-threads", type=int, default=1)
    ap.add_argument("--intra-threads", type=int, default=1)
    ap.add_argument("--max-batch-size", type=int, default=32)
    ap.add_argument("--max-decoding-length", type=int, default=256)
    ap.add_argument("--length-penalty", type=float, default=1.0)
    args = ap.parse_args()

    import ctranslate2
    import sentencepiece as spm

    source = spm.SentencePieceProcessor(model_file=os.path.join(args.hf_folder, "source.spm"))
    target = spm.SentencePieceProcessor(model_file=os.path.join(args.hf_folder, "target.spm"))
    translator = ctranslate2.Translator(args.ct2_dir, device="cpu", compute_type=args.compute_type,
                                        inter_threads=args.inter_threads, intra_threads=args.intra_threads)
    lines = [line.rstrip("\n") for line in (sys.stdin if args.input == "-" else open(args.input, encoding="utf-8"))]
    tokens = [pieces + ["</s>"] for pieces in source.encode(lines, out_type=str)]
    results = translator.translate_batch(tokens, beam_size=args.beam, length_penalty=args.length_penalty,
                                         max_batch_size=args.max_batch_size, batch_type="examples",
                                         max_decoding_length=args.max_decoding_length, return_scores=False)
    sys.stdout.write("".join(target.decode(r.hypotheses[0]) + "\n" for r in results))


if __name__ == "__main__":
    main()
