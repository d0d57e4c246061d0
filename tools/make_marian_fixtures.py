#!/usr/bin/env python3
"""Small random MarianMTModels and what `transformers` computes with them: the fixtures that
heed's converted models are checked against (tests/fixtures/marian/).

Each fixture is a folder as the Hugging Face hub serves an OPUS-MT model (config.json,
model.safetensors, source.spm, target.spm, vocab.json, tokenizer_config.json) plus expected.json:
the test lines, their token ids as MarianTokenizer makes them, the logits of a teacher-forced
decoder pass, the ids that generate() gives with greedy and beam search, and the greedy ones as
the tokenizer decodes them. Weights are random
(seeded) with a wide initialisation, so that the models' choices are far from ties; the
SentencePiece models are trained on data/multi30k-200 with a few hundred pieces.

Needs (pip, in a venv; not heed's dependencies):
  torch (CPU is enough), transformers 4.x (MarianMTModel), safetensors, sentencepiece
Usage: tools/make_marian_fixtures.py [OUT_DIR]   (default: tests/fixtures/marian)
"""

import json
import pathlib
import sys
import tempfile

import sentencepiece as spm
import torch
from transformers import MarianConfig, MarianMTModel, MarianTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "multi30k-200"

# Each configuration exercises another part of what a converted model must compute.
CONFIGS = {
    # OPUS-MT's own choices, scaled down: swish, scaled embeddings, everything tied.
    "swish-2x2": dict(activation_function="swish", d_model=16, encoder_layers=2, decoder_layers=2,
                      encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                      scale_embedding=True),
    # GELU, uneven stacks, three heads.
    "gelu-1x3": dict(activation_function="gelu", d_model=24, encoder_layers=1, decoder_layers=3,
                     encoder_attention_heads=3, decoder_attention_heads=3, encoder_ffn_dim=48, decoder_ffn_dim=48,
                     scale_embedding=True),
    # ReLU, embeddings not scaled, four heads of width 4.
    "relu-2x1": dict(activation_function="relu", d_model=16, encoder_layers=2, decoder_layers=1,
                     encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=24, decoder_ffn_dim=24,
                     scale_embedding=False),
}

LINES = 6          # test lines, from data/multi30k-200/valid.en
MAX_NEW = 24       # generate()'s output limit
LOGIT_STEPS = 4    # teacher-forced positions whose logits are kept
LOGIT_LINES = 2    # of the first this many lines


def train_spm(text: pathlib.Path, prefix: pathlib.Path, size: int) -> pathlib.Path:
    spm.SentencePieceTrainer.train(input=str(text), model_prefix=str(prefix), vocab_size=size, model_type="unigram",
                                   character_coverage=1.0, normalization_rule_name="identity", unk_id=0, bos_id=-1,
                                   eos_id=1, pad_id=-1, minloglevel=2)
    return prefix.with_suffix(".model")


def joint_vocab(source: pathlib.Path, target: pathlib.Path) -> dict:
    """Marian's joint vocabulary: </s> 0, <unk> 1, then the pieces of both sides, <pad> last."""
    vocab = {"</s>": 0, "<unk>": 1}
    for model in (source, target):
        processor = spm.SentencePieceProcessor(model_file=str(model))
        for i in range(processor.get_piece_size()):
            piece = processor.id_to_piece(i)
            if piece not in ("<unk>", "</s>", "<s>") and piece not in vocab:
                vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


def make(name: str, options: dict, out: pathlib.Path, seed: int) -> None:
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        source = train_spm(DATA / "train.en", tmp / "source", 150)
        target = train_spm(DATA / "train.de", tmp / "target", 150)
        vocab = joint_vocab(source, target)
        (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
        tokenizer = MarianTokenizer(str(source), str(target), str(tmp / "vocab.json"), source_lang="en",
                                    target_lang="de", model_max_length=64)
        tokenizer.save_pretrained(str(folder))

    pad = vocab["<pad>"]
    config = MarianConfig(vocab_size=len(vocab), decoder_vocab_size=len(vocab), max_position_embeddings=64,
                          pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0,
                          init_std=0.4, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
                          share_encoder_decoder_embeddings=True, tie_word_embeddings=True, **options)
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    with torch.no_grad():  # a bias heed must read: zero in a fresh model
        model.final_logits_bias.normal_(0.0, 0.5)
    model.save_pretrained(str(folder), safe_serialization=True)

    lines = (DATA / "valid.en").read_text().splitlines()[:LINES]
    batch = tokenizer(lines, return_tensors="pt", padding=True)
    with torch.no_grad():
        greedy = model.generate(**batch, num_beams=1, do_sample=False, max_new_tokens=MAX_NEW, bad_words_ids=[[pad]])
        beam = model.generate(**batch, num_beams=4, do_sample=False, max_new_tokens=MAX_NEW, bad_words_ids=[[pad]],
                              length_penalty=1.0, early_stopping=True, num_return_sequences=1)
        # Teacher forcing on the greedy outputs: the logits heed's forward pass must give.
        forced = greedy[:LOGIT_LINES, :LOGIT_STEPS]
        logits = model(input_ids=batch["input_ids"][:LOGIT_LINES], attention_mask=batch["attention_mask"][:LOGIT_LINES],
                       decoder_input_ids=forced).logits

    def ids(row):  # without the decoder start and the padding after eos
        out = []
        for t in row.tolist()[1:]:
            out.append(t)
            if t == 0:
                break
        return out

    expected = {
        "lines": lines,
        "input_ids": [[t for t, m in zip(row, mask) if m] for row, mask in
                      zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist())],
        "generate": {"max_new_tokens": MAX_NEW, "bad_words_ids": [[pad]], "beam": {"num_beams": 4, "length_penalty": 1.0,
                                                                                   "early_stopping": True}},
        "greedy": [ids(r) for r in greedy],
        "greedy_text": tokenizer.batch_decode(greedy, skip_special_tokens=True),
        "beam4": [ids(r) for r in beam],
        "decoder_input_ids": forced.tolist(),
        "logits": [[[round(v, 6) for v in step] for step in row] for row in logits.tolist()],
    }
    (folder / "expected.json").write_text(json.dumps(expected))
    for junk in ("generation_config.json", "special_tokens_map.json"):
        (folder / junk).unlink(missing_ok=True)
    size = sum(f.stat().st_size for f in folder.iterdir())
    print(f"{name}: {len(vocab)} pieces, {sum(p.numel() for p in model.parameters())} parameters, {size // 1024} kB")


def main() -> None:
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "fixtures" / "marian"
    for seed, (name, options) in enumerate(CONFIGS.items(), start=1):
        make(name, options, out, seed)


if __name__ == "__main__":
    main()
