#!/usr/bin/env python3
"""A random MarianMTModel the size of OPUS-MT en-de (6 + 6 layers, width 512, 8 heads, FFN 2048,
swish, a 58,101-piece joint vocabulary), saved as the Hugging Face hub serves OPUS-MT models: the
folder that `heed convert --from huggingface` and CTranslate2's `ct2-transformers-converter` both
convert, for timing the two engines on the same weights (tools/bench_opus_ct2.sh).

The SentencePiece models (8,000 pieces a side) are trained on Tatoeba en-de; the joint vocabulary
holds their pieces, then unused pieces up to OPUS-MT's size, so that the output layer has its
width. End of sentence gets a final-logits bias of -10,000: no engine ever chooses it, so both run
every sentence to the same fixed length and do the same work.

Needs (pip, in a venv; not heed's dependencies): torch, transformers 4.x, safetensors, sentencepiece
Usage: tools/make_opus_size_model.py SHARED_DATA_DIR OUT_DIR
"""

import gzip
import json
import pathlib
import sys
import tempfile

import sentencepiece as spm
import torch
from transformers import MarianConfig, MarianMTModel, MarianTokenizer

from make_marian_fixtures import joint_vocab

VOCAB = 58101  # opus-mt-en-de's, <pad> included


def train_spm(lines, prefix: pathlib.Path, size: int) -> pathlib.Path:
    text = prefix.with_suffix(".txt")
    text.write_text("\n".join(lines) + "\n")
    spm.SentencePieceTrainer.train(input=str(text), model_prefix=str(prefix), vocab_size=size, model_type="unigram",
                                   character_coverage=1.0, unk_id=0, bos_id=-1, eos_id=1, pad_id=-1, minloglevel=2,
                                   input_sentence_size=200000, shuffle_input_sentence=True)
    return prefix.with_suffix(".model")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    shared, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    read = lambda path: [line.strip() for line in gzip.open(path, "rt", encoding="utf-8")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        source = train_spm(read(shared / "tatoeba/en-de/train.en.gz"), tmp / "source", 8000)
        target = train_spm(read(shared / "tatoeba/en-de/train.de.gz"), tmp / "target", 8000)
        vocab = joint_vocab(source, target)
        del vocab["<pad>"]  # last again once the unused pieces are in
        filler = 0
        while len(vocab) < VOCAB - 1:
            vocab[f"\u2581unused{filler}"] = len(vocab)
            filler += 1
        vocab["<pad>"] = len(vocab)
        (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
        tokenizer = MarianTokenizer(str(source), str(target), str(tmp / "vocab.json"), source_lang="en",
                                    target_lang="de", model_max_length=512)
        tokenizer.save_pretrained(str(out))

    pad = vocab["<pad>"]
    config = MarianConfig(vocab_size=VOCAB, decoder_vocab_size=VOCAB, max_position_embeddings=512, d_model=512,
                          encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
                          encoder_ffn_dim=2048, decoder_ffn_dim=2048, activation_function="swish",
                          scale_embedding=True, pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0,
                          forced_eos_token_id=0, share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
                          dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, init_std=0.02)
    torch.manual_seed(1)
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        model.final_logits_bias.normal_(0.0, 0.1)
        model.final_logits_bias[0, 0] = -1e4  # </s>: never chosen
        model.final_logits_bias[0, pad] = 0.0
    model.save_pretrained(str(out), safe_serialization=True)
    for junk in ("generation_config.json", "special_tokens_map.json"):
        (out / junk).unlink(missing_ok=True)
    print(f"{out}: {sum(p.numel() for p in model.parameters())} parameters, {len(vocab)} pieces", file=sys.stderr)


if __name__ == "__main__":
    main()
