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

Models Marian itself could have trained (swish or ReLU, scaled embeddings) are also written as a
Marian release in the fixture's marian/ folder, as OPUS-MT models are downloaded: the .npz with
Marian's parameter names and its configuration inside ("special:model.yml"), decoder.yml, the
vocabulary as .vocab.yml, the two .spm files. transformers' own conversion script
(convert_marian_to_pytorch.OpusState) reads each release back, and the model it builds must give
the original's logits: the names and layout are the ones that script, and Marian, use.

Needs (pip, in a venv; not heed's dependencies):
  torch (CPU is enough), transformers 4.x (MarianMTModel), safetensors, sentencepiece
Usage: tools/make_marian_fixtures.py [OUT_DIR]   (default: tests/fixtures/marian)
"""

import json
import pathlib
import shutil
import sys
import tempfile

import numpy as np
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
    # ReLU as Marian trains it (scaled embeddings), one encoder layer, deeper decoder.
    "relu-1x2": dict(activation_function="relu", d_model=20, encoder_layers=1, decoder_layers=2,
                     encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=40, decoder_ffn_dim=40,
                     scale_embedding=True),
}
# Those a Marian release is also written for, and how its .npz is zipped (numpy.savez stores, as
# Marian's own writer does; savez_compressed deflates).
MARIAN_RELEASES = {"swish-2x2": np.savez, "relu-1x2": np.savez_compressed}

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
        model.final_logits_bias[0, pad] = 0.0  # as in every converted Marian model: <pad> is no output of Marian's
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
    if name in MARIAN_RELEASES:
        write_marian_release(model, vocab, folder, folder / "marian", MARIAN_RELEASES[name])
        check_marian_release(folder / "marian", model, batch, forced)
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    print(f"{name}: {len(vocab)} pieces, {sum(p.numel() for p in model.parameters())} parameters, {size // 1024} kB")


def yaml_scalar(text: str) -> str:
    """A scalar as yaml-cpp (Marian's YAML library) writes it: plain when that reads back as the
    same string, else double-quoted."""
    plain_ok = (text and text.strip() == text and text[0] not in "-?:,[]{}#&*!|>'\"%@`" and ": " not in text
                and " #" not in text and text.lower() not in ("true", "false", "yes", "no", "null", "~", "on", "off")
                and not text.replace(".", "", 1).lstrip("-").isdigit() and all(c.isprintable() for c in text))
    if plain_ok:
        return text
    escaped = "".join("\\\\" if c == "\\" else '\\"' if c == '"' else c if c.isprintable() else f"\\x{ord(c):02x}"
                      if ord(c) < 256 else f"\\u{ord(c):04x}" for c in text)
    return f'"{escaped}"'


def write_marian_release(model, vocab: dict, hf_folder: pathlib.Path, out: pathlib.Path, savez) -> None:
    """The model as Marian saves it: [in, out] matrices, [1, n] vectors, one embedding matrix
    without <pad> (Marian starts the decoder from a zero vector), the output bias, the config."""
    out.mkdir(exist_ok=True)
    c = model.config
    state = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    arrays = {"Wemb": state["model.shared.weight"][:-1], "decoder_ff_logit_out_b": state["final_logits_bias"][:, :-1]}

    def layer(theirs: str, ours: str, parts: dict) -> None:
        for marian, hf in parts.items():
            value = state[f"{theirs}.{hf}"]
            arrays[f"{ours}_{marian}"] = value.T.copy() if value.ndim == 2 else value[None, :]

    attention = lambda hf: {**{f"W{p}": f"{hf}.{p}_proj.weight" for p in "qkv"},
                            **{f"b{p}": f"{hf}.{p}_proj.bias" for p in "qkv"},
                            "Wo": f"{hf}.out_proj.weight", "bo": f"{hf}.out_proj.bias"}
    ffn = {"ffn_W1": "fc1.weight", "ffn_b1": "fc1.bias", "ffn_W2": "fc2.weight", "ffn_b2": "fc2.bias",
           "ffn_ffn_ln_scale": "final_layer_norm.weight", "ffn_ffn_ln_bias": "final_layer_norm.bias"}
    for side, count in (("encoder", c.encoder_layers), ("decoder", c.decoder_layers)):
        for i in range(count):
            theirs, ours = f"model.{side}.layers.{i}", f"{side}_l{i + 1}"
            layer(theirs, ours, {f"self_{k}": v for k, v in attention("self_attn").items()})
            layer(theirs, ours, {"self_Wo_ln_scale": "self_attn_layer_norm.weight",
                                 "self_Wo_ln_bias": "self_attn_layer_norm.bias"})
            if side == "decoder":
                layer(theirs, ours, {f"context_{k}": v for k, v in attention("encoder_attn").items()})
                layer(theirs, ours, {"context_Wo_ln_scale": "encoder_attn_layer_norm.weight",
                                     "context_Wo_ln_bias": "encoder_attn_layer_norm.bias"})
            layer(theirs, ours, ffn)
    size = len(vocab) - 1
    config = {
        "type": "transformer", "dim-emb": c.d_model, "dim-vocabs": [size, size], "enc-depth": c.encoder_layers,
        "dec-depth": c.decoder_layers, "transformer-heads": c.encoder_attention_heads,
        "transformer-dim-ffn": c.encoder_ffn_dim, "transformer-ffn-depth": 2,
        "transformer-ffn-activation": c.activation_function, "transformer-preprocess": "",
        "transformer-postprocess": "dan", "transformer-postprocess-emb": "d", "transformer-aan-depth": 2,
        "transformer-aan-nogate": "false", "transformer-no-projection": "false",
        "transformer-train-position-embeddings": "false", "transformer-decoder-autoreg": "self-attention",
        "transformer-tied-layers": [], "tied-embeddings": "false", "tied-embeddings-src": "false",
        "tied-embeddings-all": "true", "layer-normalization": "false", "right-left": "false", "ulr-dim-emb": 0,
        "dec-cell-base-depth": 2, "dec-cell-high-depth": 1, "max-length": 100, "guided-alignment": "none",
        "version": "v1.7.6 1d4ba73 2019-05-11 17:16:31 +0100",
    }
    lines = []
    for key, value in config.items():
        if isinstance(value, list):
            lines.append(f"{key}:" + ("" if value else " []"))
            lines += [f"  - {v}" for v in value]
        else:
            lines.append(f"{key}: {value if value != '' else chr(34) * 2}")
    arrays["special:model.yml"] = np.frombuffer(("\n".join(lines) + "\n").encode() + b"\0", dtype=np.int8)
    savez(out / "opus.spm.npz", **arrays)
    pieces = {p: i for p, i in vocab.items() if p != "<pad>"}
    (out / "opus.spm.vocab.yml").write_text("".join(f"{yaml_scalar(p)}: {i}\n" for p, i in pieces.items()))
    (out / "decoder.yml").write_text("models:\n  - opus.spm.npz\nvocabs:\n  - opus.spm.vocab.yml\n"
                                     "  - opus.spm.vocab.yml\nbeam-size: 4\nnormalize: 1\nword-penalty: 0\n"
                                     "mini-batch: 16\nmaxi-batch: 100\nmaxi-batch-sort: src\nrelative-paths: true\n")
    for spm_file in ("source.spm", "target.spm"):
        shutil.copy(hf_folder / spm_file, out / spm_file)


def check_marian_release(release: pathlib.Path, model, batch, forced) -> None:
    """transformers' own conversion reads the release back into the same model."""
    from transformers.models.marian.convert_marian_to_pytorch import OpusState
    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp) / "release"
        shutil.copytree(release, copy)  # OpusState writes vocab.json and tokenizer files beside it
        converted = OpusState(copy).load_marian_model()
    # The script sizes the position table by the model's width (fine for OPUS-MT's 512): rebuilt
    # at the original's size, the sinusoids are recomputed and every other weight kept.
    config = converted.config
    config.max_position_embeddings = model.config.max_position_embeddings
    rebuilt = MarianMTModel(config).eval()
    rebuilt.load_state_dict({k: v for k, v in converted.state_dict().items() if "embed_positions" not in k},
                            strict=False)
    converted = rebuilt
    with torch.no_grad():
        args = dict(input_ids=batch["input_ids"][:LOGIT_LINES], attention_mask=batch["attention_mask"][:LOGIT_LINES],
                    decoder_input_ids=forced)
        difference = (converted(**args).logits - model(**args).logits).abs().max().item()
    if difference > 1e-4:
        sys.exit(f"{release}: transformers' conversion of the release gives logits {difference} away from the model's")
    print(f"{release}: transformers' conversion reads it back; largest logit difference {difference:.2e}")


def main() -> None:
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "fixtures" / "marian"
    for seed, (name, options) in enumerate(CONFIGS.items(), start=1):
        make(name, options, out, seed)


if __name__ == "__main__":
    main()
