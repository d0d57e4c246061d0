#pragma once
// Batched beam search over the models' incremental decoders (model/incremental_decoder.h). Sentences are expanded into beams
// after the first step (which decodes one row per sentence); each step follows every beam's parent through the key/value caches, finished
// sentences leave the batch, and a sentence stops as soon as `beam` hypotheses have ended. A
// hypothesis ends when its end of sentence ranks among the step's best `beam` candidates (as
// in fairseq), never at the first step: no sentence is translated as nothing.
// Scores are normalised by length^α (Wu et al. 2016 use a smoothed form; heed uses the plain
// one, as Marian does). Steady-state steps allocate nothing: buffers live in the object.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "heed/model/incremental_decoder.h"
#include "heed/model/model_file.h"

namespace heed {

struct LengthLimit {
  double factor = 2.0;  // at most factor · source pieces + offset target pieces
  int64_t offset = 10;
  int64_t most = 0;     // and at most this many (0: no such cap)
  int64_t limit(int64_t source_pieces) const {
    const int64_t by_source = static_cast<int64_t>(factor * static_cast<double>(source_pieces)) + offset;
    return most > 0 ? std::min(by_source, most) : by_source;
  }
};

// How hypotheses are scored. heed: log p / (pieces + 1)^α, and an eos forced at the length limit
// costs its log-probability. transformers (as its generate() scores, for converted models checked
// against it): log p / pieces^α, and a forced eos costs nothing (its ForcedEOSTokenLogitsProcessor
// sets the eos's log-probability to 0).
enum class BeamScoring : uint8_t { heed, transformers };

struct BeamOptions {
  int64_t beam = 4;
  float length_penalty = 0.6f;  // α: hypotheses are ranked by log p / length^α
  BeamScoring scoring = BeamScoring::heed;
  LengthLimit length;
  int64_t n_best = 1;
  // false: the caller needs no log-probabilities, so greedy search (beam 1, one model) ranks
  // each row's tokens by their logits and skips the log-softmax (its order is the same: the
  // softmax subtracts one constant per row). Its hypotheses then carry 0 as log_prob and score.
  bool scores = true;
};

struct Hypothesis {
  std::vector<int32_t> pieces;  // without bos and eos
  double log_prob = 0.0;        // Σ log p of the pieces and the final eos
  double score = 0.0;           // log_prob / (pieces + 1)^α (BeamScoring says)
};

// How a model file says its beam search scores ("translate-beam-scoring" in its metadata: heed
// unless a converted model says transformers).
BeamScoring model_beam_scoring(const ModelExtras& extras, const std::string& what);

class BeamSearch {
 public:
  BeamSearch(Backend& be, Transformer& model, const BeamOptions& options);
  // An ensemble: every step, each model's log-probabilities, averaged, choose for one beam.
  // The models share their vocabularies and special ids (the caller checks the vocabularies).
  BeamSearch(Backend& be, const std::vector<Transformer*>& models, const BeamOptions& options);
  // For each source (pieces without eos), its n_best hypotheses, best first.
  std::vector<std::vector<Hypothesis>> translate(const std::vector<std::vector<int32_t>>& sources);
  // Lays out every buffer that translating `sentences` sources of `source_length` pieces can
  // need, up to their length limit, without translating them: the encoder and one step run in
  // a layout pass, which computes nothing (layout_pass.h), and what grows with the decoded length
  // (caches, scores) is allocated at the limit but not written, so it costs memory only as far
  // as decoding gets. Later batches no larger in either
  // dimension allocate nothing; one that cannot fit fails here, before any step, with its size.
  void reserve(int64_t sentences, int64_t source_length);

 private:
  struct Candidate {
    double log_prob;
    int32_t row;    // the beam's row in the current step
    int32_t token;
  };
  // The decoding capacity of a batch whose longest length limit is `longest`.
  int64_t capacity_for(int64_t longest) const;
  // Starts every model's state on the sources, one row per sentence (the first step's).
  void start(const std::vector<std::vector<int32_t>>& sources, int64_t capacity);
  // Widens each of the started sentences into `beam` rows, as the steps after the first have.
  void expand_to_beams(int64_t sentences);
  // Appends the best `count` candidates of one row (its beam's log prob + each token's) to
  // candidates_. `scores`: the row of step_scores().
  void collect_candidates(const float* scores, int32_t row, double beam_log_prob, int64_t count, bool force_eos);
  std::vector<int32_t> trace(int64_t step, int32_t row) const;
  double normalise(double log_prob, int64_t pieces) const;

  // The step's scores [rows, V] on the host: one model's logits, or the ensemble's mean of its
  // models' logits (with each row's mean log-normaliser in ensemble_normalisers_). Logits become
  // log-probabilities in the candidate scan, which reads each row anyway: a token's is its score
  // minus row_normaliser() (two passes over a row of logits where a log-softmax takes three and
  // the scan a fourth).
  Tensor step_scores(const Tensor& tokens);
  // Each of the step's `rows` rows' block maxima (in block_maxima_, for the scan) and its
  // normaliser (row_normalisers_): log Σ e^logit, the row's mean over an ensemble's models, or 0
  // when the logits rank the tokens (ranks_by_logits()). Rows are independent: they are shared
  // among the worker's threads, the step's one part outside the backend that reads every logit.
  void row_statistics(const Tensor& scores, int64_t rows);
  // Sizes the step scratch for `rows` rows (before decoding: no allocation during the steps).
  void reserve_row_scratch(int64_t rows);
  // Greedy search without scores: the logits rank one model's tokens as its log-probabilities
  // would (the softmax subtracts one constant per row), so no normaliser is computed.
  bool ranks_by_logits() const { return !options_.scores && options_.beam == 1 && models_.size() == 1; }
  void select_rows(RowSelection what);

  Backend* be_;  // the backend of every op
  std::vector<Transformer*> models_;
  const ModelConfig& config_;  // the first model's: vocabulary and special ids, shared by all
  BeamOptions options_;
  std::vector<IncrementalDecoder> decoders_;  // one per model
  Tensor host_logits_;                  // a model's logits read back from a device backend
  std::vector<float> ensemble_scores_;  // an ensemble's mean logits [rows, V]
  std::vector<double> ensemble_normalisers_;  // and each row's mean log Σ e^logit
  std::vector<int32_t> tokens_;  // each row's last token, the next step's input
  // Per step and row of the next step: the token chosen and the row it extends.
  std::vector<int32_t> step_tokens_, step_parents_;
  int64_t rows_capacity_ = 0;
  std::vector<Candidate> candidates_;
  int64_t blocks_ = 0;                   // blocks of kCandidateBlock tokens in a row
  std::vector<float> block_maxima_;      // [rows, blocks_]: the largest score of each block
  std::vector<double> row_normalisers_;  // [rows]: see row_statistics
  std::vector<int32_t> next_rows_;
  std::vector<double> beam_log_probs_, next_log_probs_;
  std::vector<int32_t> next_tokens_;
};

}  // namespace heed
