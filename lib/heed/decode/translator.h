#pragma once
// From lines of text to lines of translation: encoding, checks, batching by length, beam
// search, order restoration and decoding. One result per input line, always: an empty or
// whitespace-only line, or one with invalid UTF-8, gives an empty translation; a line longer
// than the model accepts is translated in parts or truncated.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "heed/decode/beam_search.h"
#include "heed/text/sentences.h"
#include "heed/text/vocabulary.h"

namespace heed {

enum class LongLines : uint8_t { split, truncate };

struct TranslateOptions {
  BeamOptions beam;
  int64_t batch_sentences = 0;  // 0: default_batch_sentences(beam.beam, workers, output table bytes)
  int64_t batch_tokens = 0;    // source pieces per batch, padding counted (0: no limit)
  // Each line's sentences translated on their own and joined with a space (text/sentences.h), as
  // the models were trained on sentences: a line of several otherwise loses all but the first.
  bool split_sentences = true;
  SentenceLanguage sentence_language = SentenceLanguage::any;
  LongLines long_lines = LongLines::split;
  int64_t max_input_pieces = 0;  // 0: as many as the model accepts
  int64_t long_sentence_part = 0;  // a sentence over the limit is cut in runs of about equal length up to this (0: the limit)
  int threads_per_worker = 0;    // with several workers, each one's kernel threads (0: as the caller's)
  // The matmuls' precision (prepared_weight.h); one the CPU has no kernels for falls back to f32
  // with a warning.
  Precision precision = Precision::f32;
};

// The default batch: 64 rows of beams (sentences × beam size), between 8 and 16 sentences; greedy
// search on one worker takes 32. Wider batches of beams run slower (each step's products outgrow
// the caches); greedy rows are few enough that one worker gains from 32 sentences, while two
// workers gain nothing from them (fewer batches each, so the workers finish less together) and
// pay their memory (`tools/bench_translate.sh` measures these choices).
// The output table's bytes at the matmul precision (the target vocabulary × model width × 4 at
// f32) decide whether batches are doubled: over kLargeOutputTableBytes, the table is read from
// memory at every step.
inline constexpr int64_t kLargeOutputTableBytes = int64_t{48} << 20;
int64_t default_batch_sentences(int64_t beam, int64_t workers, int64_t output_table_bytes);
// The output table's bytes at the matmul precision translation prepares it in.
int64_t output_table_bytes(const ModelConfig& config, Precision precision);
// How many workers share `threads` unless told: one per thread (each decodes its own batches, and
// small models' steps divide poorly among threads), except over kLargeOutputTableBytes, where
// every worker would stream the table from memory at each of its steps: one worker of all the
// threads reads it once for twice the rows, and holds one workspace.
int default_workers(int threads, int64_t output_table_bytes);

struct TranslatedLine {
  std::vector<std::string> texts;  // n-best, best first (one empty text for an empty line)
  std::vector<double> scores;      // each the sum of its sentences' scores
  // A line of several sentences, each translated whole: their source texts and, for each of
  // texts, the sentences' translations, whose join with spaces it is (so that word alignments
  // can be made sentence by sentence). Empty for a line of one sentence or one cut inside one.
  std::vector<std::string> source_sentences;
  std::vector<std::vector<std::string>> sentence_texts;  // [text][sentence]
};

struct TranslateStats {
  int64_t lines = 0, empty = 0, invalid = 0, long_lines = 0;
  int64_t split_lines = 0;  // lines of several sentences, translated one sentence at a time
  int64_t source_pieces = 0, target_pieces = 0;  // target pieces count eos, as the benchmarks do
  int64_t source_words = 0;  // white-space words of the translated text
  int64_t workspace_bytes = 0;  // tensor memory the workers' buffers took when laid out
};

// Several workers (one per backend given) translate batches side by side, as CTranslate2's
// inter_threads do: worker 0 decodes with `model`, the others with models that read its weights
// (one copy in memory) and own their activations and caches. Each batch is decoded by one worker
// exactly as a single worker would, so the output does not depend on the number of workers.
class Translator {
 public:
  Translator(Backend& be, Transformer& model, const Vocabulary& source, const Vocabulary& target,
             const TranslateOptions& options);
  Translator(const std::vector<Backend*>& backends, Transformer& model, const Vocabulary& source,
             const Vocabulary& target, const TranslateOptions& options);
  // An ensemble (see BeamSearch): every worker decodes with all the models, each read from one
  // copy of its weights.
  Translator(const std::vector<Backend*>& backends, const std::vector<Transformer*>& models, const Vocabulary& source,
             const Vocabulary& target, const TranslateOptions& options);
  ~Translator();
  // first_line: the 1-based number of lines[0] in the whole input, for messages.
  std::vector<TranslatedLine> translate(const std::vector<std::string>& lines, int64_t first_line);
  const TranslateStats& stats() const { return stats_; }
  size_t workers() const { return workers_.size(); }

 private:
  struct Worker;
  using Sources = std::vector<std::vector<int32_t>>;
  // Lays out each worker's buffers for the largest of these batches (by sentences, by length and
  // by both), before any is decoded; shapes no larger than those already laid out are skipped.
  void reserve(const std::vector<Sources>& batches);
  // Runs job(w) for workers 0 .. count−1 at once, each on its own thread with its --threads share
  // (worker 0 on the calling thread; one worker runs as the caller); rethrows the first error.
  void on_workers(size_t count, const std::function<void(size_t)>& job);
  // Decodes every batch, batches[i]'s hypotheses into results[i], sharing them among the workers.
  void decode(const std::vector<Sources>& batches, std::vector<std::vector<std::vector<Hypothesis>>>& results);

  const Vocabulary& source_;
  const Vocabulary& target_;
  TranslateOptions options_;
  int64_t limit_;  // the most source pieces one sentence may have
  int64_t output_table_bytes_ = 0;  // the output table at the matmul precision
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::pair<int64_t, int64_t>> reserved_;  // (sentences, source pieces) laid out so far
  TranslateStats stats_;
};

}  // namespace heed
