// End to end: a tiny Transformer, trained by `train()` from text files, learns to reverse random
// sequences of letters. The model must generalise (test sequences are new) and get at least 99%
// of them exactly right, within about a minute on two cores.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "heed/align/aligner.h"
#include "heed/data/corpus.h"
#include "heed/devices/devices.h"
#include "heed/eval/aer.h"
#include "support/greedy_decode.h"
#include "heed/model/model_file.h"
#include "train_support.h"

using namespace heed;
using namespace heed::test;

namespace {

// Lines of 3 to 7 letters from a–l, separated by spaces; the target is the source reversed.
void write_reversal_corpus(const std::string& src, const std::string& tgt, int lines, uint64_t seed) {
  Rng rng(seed);
  std::string s, t;
  for (int i = 0; i < lines; ++i) {
    const int length = 3 + static_cast<int>(rng.next_u64() % 5);
    std::string letters;
    for (int k = 0; k < length; ++k) letters.push_back(static_cast<char>('a' + rng.next_u64() % 12));
    for (int k = 0; k < length; ++k) s += std::string(k ? " " : "") + letters[k];
    for (int k = length - 1; k >= 0; --k) t += std::string(k != length - 1 ? " " : "") + letters[k];
    s += "\n";
    t += "\n";
  }
  write_text(src, s);
  write_text(tgt, t);
}

// Training on dir's train.src/train.tgt with the letters vocabulary, fast settings.
TrainConfig reversal_training(const TempDir& dir, int64_t updates, int64_t warmup) {
  TrainConfig c;
  c.train_source = dir.file("train.src");
  c.train_target = dir.file("train.tgt");
  c.vocabulary = dir.file("letters.model");
  c.output_dir = dir.file("run");
  c.batch_tokens = 1024;
  c.optimizer.learning_rate = 2e-3f;
  c.optimizer.warmup = warmup;
  c.label_smoothing = 0.0f;
  c.max_epochs = 0;
  c.max_updates = updates;
  c.progress_seconds = 1000;
  return c;
}

// Links "0-0 1-1 …": each source letter with the target letter at the same position. The
// reversed target's letter there is another one, so attention that serves the translation does
// not look there: only the guided term can teach a head this.
void write_diagonal_links(const std::string& src, const std::string& out_path) {
  std::string out;
  for (const std::string& line : read_lines(src)) {
    const auto words = static_cast<int32_t>(std::count(line.begin(), line.end(), ' ') + 1);  // one space between letters
    std::vector<Link> diagonal;
    for (int32_t k = 0; k < words; ++k) diagonal.emplace_back(k, k);
    out += pharaoh(diagonal) + "\n";
  }
  write_text(out_path, out);
}

// Trains the small model on the reversal task in dir (matmuls in `precision`) and returns the
// exact-match rate of its greedy translations of the test sequences; the model is dir/run/best.heed.
double train_reversal(const TempDir& dir, Precision precision) {
  write_reversal_corpus(dir.file("train.src"), dir.file("train.tgt"), 6000, 1);
  write_reversal_corpus(dir.file("valid.src"), dir.file("valid.tgt"), 100, 2);
  write_reversal_corpus(dir.file("test.src"), dir.file("test.tgt"), 300, 3);
  train_vocabulary({dir.file("train.src"), dir.file("train.tgt")}, 40, dir.file("letters.model"));

  TrainConfig c = reversal_training(dir, 800, 60);
  c.optimizer.learning_rate = 3e-3f;
  c.valid_source = dir.file("valid.src");
  c.valid_target = dir.file("valid.tgt");
  c.validate_every = 200;
  c.precision = precision;
  ModelConfig m = small_model();
  m.dropout = 0.0f;

  const auto start = std::chrono::steady_clock::now();
  train(c, m);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("training with " << precision_name(precision) << " matmuls took " << seconds << " s");

  LoadedModel best = load_model(dir.file("run/best.heed"));
  const Vocabulary vocab = Vocabulary::from_serialized(best.extras.vocabularies[0].bytes, "letters");
  const Corpus test = read_parallel_corpus(dir.file("test.src"), dir.file("test.tgt"), vocab, vocab, 100);
  auto be = make_backend(BackendKind::onednn);
  int exact = 0;
  for (size_t start_index = 0; start_index < test.pairs.size(); start_index += 50) {
    std::vector<std::vector<int32_t>> sources;
    for (size_t i = start_index; i < std::min(test.pairs.size(), start_index + 50); ++i) sources.push_back(test.pairs[i].source);
    const auto outputs = greedy_decode(*be, *best.model, sources, {});
    for (size_t i = 0; i < outputs.size(); ++i) exact += outputs[i] == test.pairs[start_index + i].target;
  }
  const double rate = static_cast<double>(exact) / static_cast<double>(test.pairs.size());
  MESSAGE("exact match " << rate);
  return rate;
}

// Lines of `length` digits from two random ones, x[t] = (x[t−1] + x[t−2]) mod 10: each digit
// depends on the two before it and nothing else. Source and target are the same line.
void write_local_rule_corpus(const std::string& src, const std::string& tgt, int lines, int length, uint64_t seed) {
  Rng rng(seed);
  std::string text;
  for (int i = 0; i < lines; ++i) {
    std::string digits = {static_cast<char>('0' + rng.next_u64() % 10), static_cast<char>('0' + rng.next_u64() % 10)};
    while (static_cast<int>(digits.size()) < length)
      digits.push_back(static_cast<char>('0' + (digits.end()[-1] - '0' + digits.end()[-2] - '0') % 10));
    text += digits + "\n";
  }
  write_text(src, text);
  write_text(tgt, text);
}

// The share of positions t ≥ 2 of a line of digits where x[t] = (x[t−1] + x[t−2]) mod 10.
double follows_rule(const std::string& line) {
  int64_t kept = 0;
  for (size_t t = 2; t < line.size(); ++t) kept += (line[t] - '0') == (line[t - 1] - '0' + line[t - 2] - '0') % 10;
  return line.size() > 2 ? static_cast<double>(kept) / static_cast<double>(line.size() - 2) : 0.0;
}

}  // namespace

TEST_CASE("a tiny model learns to reverse sequences to at least 99% exact match") {
  TempDir dir;
  CHECK(train_reversal(dir, Precision::f32) >= 0.99);
  LoadedModel best = load_model(dir.file("run/best.heed"));
  const Vocabulary vocab = Vocabulary::from_serialized(best.extras.vocabularies[0].bytes, "letters");
  auto be = make_backend(BackendKind::onednn);

  // Its cross-attention aligns word i of the source with word n-1-i of the reversed target:
  // the default extraction (all layers, heads averaged, grow-diag) against the anti-diagonal.
  Aligner aligner(*be, *best.model, vocab, vocab, {});
  const std::vector<std::string> sources = read_lines(dir.file("test.src")), targets = read_lines(dir.file("test.tgt"));
  std::vector<std::string> predicted, gold;
  for (size_t i = 0; i < sources.size(); ++i) {
    const PairAlignment a = aligner.align(sources[i], targets[i]);
    predicted.push_back(pharaoh(a.links));
    std::vector<Link> diagonal;
    for (int32_t k = 0; k < a.source_words; ++k) diagonal.emplace_back(k, a.source_words - 1 - k);
    gold.push_back(pharaoh(diagonal));
  }
  const AerScore aer = corpus_aer(predicted, gold, "heed align", "the anti-diagonal", {});
  MESSAGE("reversal task: " << aer.format());
  CHECK(aer.aer < 5.0);
}

TEST_CASE("trained with bf16 matmuls, the tiny model learns the reversal as well") {
  if (!make_backend(BackendKind::onednn)->supports(Precision::bf16)) {
    MESSAGE("no bf16 matmul kernels on this CPU: skipped");
    return;
  }
  TempDir dir;
  CHECK(train_reversal(dir, Precision::bf16) >= 0.99);
}

TEST_CASE("guided alignment teaches one head the given links, and heed align reads that head by default") {
  TempDir dir;
  write_reversal_corpus(dir.file("train.src"), dir.file("train.tgt"), 2000, 4);
  write_reversal_corpus(dir.file("test.src"), dir.file("test.tgt"), 200, 5);
  write_diagonal_links(dir.file("train.src"), dir.file("train.links"));
  train_vocabulary({dir.file("train.src"), dir.file("train.tgt")}, 40, dir.file("letters.model"));

  TrainConfig c = reversal_training(dir, 150, 50);
  c.guided_alignment = dir.file("train.links");
  c.guided_alignment_weight = 1.0f;
  ModelConfig m = small_model();
  m.dropout = 0.0f;
  c.alignment_layer = 0;
  c.alignment_head = 2;
  const TrainSummary summary = train(c, m);
  CHECK(summary.last_loss < summary.first_loss);

  LoadedModel model = load_model(dir.file("run/last.heed"));
  CHECK(model.model->config().alignment_layer == 0);
  CHECK(model.model->config().alignment_head == 2);
  const Vocabulary vocab = Vocabulary::from_serialized(model.extras.vocabularies[0].bytes, "letters");
  auto be = make_backend(BackendKind::onednn);
  const std::vector<std::string> sources = read_lines(dir.file("test.src")), targets = read_lines(dir.file("test.tgt"));
  const auto aer_against_diagonal = [&](const AlignOptions& options) {
    Aligner aligner(*be, *model.model, vocab, vocab, options);
    std::vector<std::string> predicted, gold;
    for (size_t i = 0; i < sources.size(); ++i) {
      const PairAlignment a = aligner.align(sources[i], targets[i]);
      predicted.push_back(pharaoh(a.links));
      std::vector<Link> diagonal;
      for (int32_t k = 0; k < a.source_words; ++k) diagonal.emplace_back(k, k);
      gold.push_back(pharaoh(diagonal));
    }
    return corpus_aer(predicted, gold, "heed align", "the diagonal", {});
  };
  // Unseen pairs: the guided head (the default for this model) aligns them as it was taught;
  // the other heads, averaged over the last layer, do not.
  const AerScore guided = aer_against_diagonal({});
  MESSAGE("guided head against the diagonal: " << guided.format());
  CHECK(guided.aer < 5.0);
  const AerScore unguided = aer_against_diagonal({.layers = {1}, .head = -1, .step = std::nullopt});
  MESSAGE("last layer, heads averaged, against the diagonal: " << unguided.format());
  CHECK(unguided.aer > 50.0);
}

TEST_CASE("with a window of 4, a model learns a local rule over sequences of 1,024 tokens, and applies it to new ones") {
  // Every attention here is over ~1,025 keys: training runs it tiled (linear memory; the
  // windowed self-attentions skip all but the tiles along the diagonal), and greedy decoding
  // keeps each decoder self-attention cache to a ring of 5 positions.
  TempDir dir;
  constexpr int kLength = 1024;
  write_local_rule_corpus(dir.file("train.src"), dir.file("train.tgt"), 200, kLength, 1);
  write_local_rule_corpus(dir.file("test.src"), dir.file("test.tgt"), 8, kLength, 3);
  train_vocabulary({dir.file("train.src")}, 15, dir.file("digits.model"));  // one piece per digit, and "▁"

  TrainConfig c;
  c.train_source = dir.file("train.src");
  c.train_target = dir.file("train.tgt");
  c.vocabulary = dir.file("digits.model");
  c.output_dir = dir.file("run");
  c.batch_tokens = 2 * kLength + 4;  // two lines an update
  c.max_length = kLength + 10;
  c.optimizer.learning_rate = 3e-3f;
  c.optimizer.warmup = 50;
  c.label_smoothing = 0.0f;
  c.max_epochs = 0;
  c.max_updates = 600;
  c.progress_seconds = 1000;
  ModelConfig m;
  m.model_dim = 64;
  m.heads = 2;
  m.ffn_dim = 256;
  m.encoder_layers = 1;
  m.decoder_layers = 1;
  m.max_positions = kLength + 16;
  m.dropout = 0.0f;
  m.attention_dropout = 0.0f;
  m.attention_window = 4;
  const auto start = std::chrono::steady_clock::now();
  const TrainSummary summary = train(c, m);
  MESSAGE(c.max_updates << " updates over " << kLength << "-token pairs took "
          << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s; loss "
          << summary.first_loss << " -> " << summary.last_loss);

  LoadedModel model = load_model(dir.file("run/last.heed"));
  CHECK(model.model->config().attention_window == 4);
  const Vocabulary vocab = Vocabulary::from_serialized(model.extras.vocabularies[0].bytes, "digits");
  const Corpus test = read_parallel_corpus(dir.file("test.src"), dir.file("test.tgt"), vocab, vocab, kLength + 10);
  REQUIRE(test.pairs.size() == 8);
  std::vector<std::vector<int32_t>> sources;
  for (const auto& pair : test.pairs) sources.push_back(pair.source);
  auto be = make_backend(BackendKind::onednn);
  const auto outputs = greedy_decode(*be, *model.model, sources, {.factor = 1.0, .offset = 0, .most = 0});
  std::vector<double> shares, lengths;
  for (const auto& output : outputs) {
    std::string line = vocab.decode(output);
    std::erase(line, ' ');
    shares.push_back(follows_rule(line));
    lengths.push_back(static_cast<double>(line.size()));
  }
  std::sort(shares.begin(), shares.end());
  std::sort(lengths.begin(), lengths.end());
  MESSAGE("share of each output's digits that follow the rule (chance: 0.1): lowest " << shares.front() << ", median "
          << shares[shares.size() / 2] << "; median length " << lengths[lengths.size() / 2] << " digits");
  CHECK(shares[shares.size() / 2] >= 0.95);
  CHECK(lengths[lengths.size() / 2] >= kLength - 24);  // whole lines, not a prefix
}
