#include "heed/decode/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "heed/backend/layout_pass.h"
#include "heed/core/error.h"
#include "heed/core/vector_exp.h"
#include "heed/data/batcher.h"

namespace heed {
namespace {

constexpr double kImpossible = -std::numeric_limits<double>::infinity();

constexpr int64_t kCandidateBlock = 64;  // tokens whose largest log prob is compared at once

// maxima[b] = max(x[b·block .. (b+1)·block)) over n floats. Compiled for AVX-512 and AVX2 besides
// the baseline, picked at load time: the scan of a step's log probs is the beam's hot loop.
__attribute__((target_clones("avx512f", "avx2", "default")))
void block_maxima(const float* x, int64_t n, float* maxima) {
  for (int64_t start = 0, b = 0; start < n; start += kCandidateBlock, ++b) {
    const int64_t end = std::min(n, start + kCandidateBlock);
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t v = start; v < end; ++v) m = x[v] > m ? x[v] : m;  // vmaxps; std::max stays scalar (GCC 12)
    maxima[b] = m;
  }
}

// log Σ_v e^x[v] for a row whose largest entry is `max`: the log-softmax's normaliser (a token's
// log-probability is x[v] minus it), in one vectorised pass.
__attribute__((target_clones("avx512f", "avx2", "default")))
double log_normaliser(const float* x, int64_t n, float max) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t v = 0; v < n; ++v) sum += exp_nonpositive(x[v] - max);
  return static_cast<double>(max) + std::log(static_cast<double>(sum));
}

// y += a · x over n floats (an ensemble's mean), vectorised.
__attribute__((target_clones("avx512f", "avx2", "default")))
void add_scaled(float a, const float* x, int64_t n, float* y) {
#pragma omp simd
  for (int64_t v = 0; v < n; ++v) y[v] += a * x[v];
}

// Is `next` row i ← row i for each of the `rows` rows (a selection that moves nothing)?
bool rows_stay(const std::vector<int32_t>& next, int64_t rows) {
  if (static_cast<int64_t>(next.size()) != rows) return false;
  for (size_t r = 0; r < next.size(); ++r)
    if (next[r] != static_cast<int32_t>(r)) return false;
  return true;
}

const ModelConfig& first_config(const std::vector<Transformer*>& models) {
  HEED_CHECK(!models.empty(), "beam search needs at least one model");
  return models.front()->config();
}

}  // namespace

BeamSearch::BeamSearch(Backend& be, Transformer& model, const BeamOptions& options)
    : BeamSearch(be, std::vector<Transformer*>{&model}, options) {}

BeamSearch::BeamSearch(Backend& be, const std::vector<Transformer*>& models, const BeamOptions& options)
    : be_(&be),
      models_(models),
      config_(first_config(models)),
      options_(options),
      blocks_((config_.target_vocab + kCandidateBlock - 1) / kCandidateBlock) {
  reserve_row_scratch(1);  // an ensemble's step reads a row's maxima before the step's statistics
  HEED_CHECK(options_.beam >= 1, "--beam must be at least 1, got {}", options_.beam);
  HEED_CHECK(options_.n_best >= 1 && options_.n_best <= options_.beam, "--n-best must be between 1 and the beam size {}, got {}",
             options_.beam, options_.n_best);
  for (Transformer* m : models_) decoders_.emplace_back(*m);
  for (const Transformer* m : models_) {
    const ModelConfig& c = m->config();
    HEED_CHECK(c.source_vocab == config_.source_vocab && c.target_vocab == config_.target_vocab && c.pad_id == config_.pad_id &&
                   c.bos_id == config_.bos_id && c.eos_id == config_.eos_id && c.max_positions == config_.max_positions,
               "an ensemble's models must share vocabularies, special ids and positions: {} and {} source, {} and {} target "
               "pieces, {} and {} positions",
               config_.source_vocab, c.source_vocab, config_.target_vocab, c.target_vocab, config_.max_positions,
               c.max_positions);
  }
}

Tensor BeamSearch::step_scores(const Tensor& tokens) {
  if (models_.size() == 1) return be_->to_host(decoders_[0].step(*be_, tokens), host_logits_);
  // The ensemble's mean of log-probabilities (a product of experts, renormalised by nobody: the
  // beam only compares them): Σ_m w·logit_m − Σ_m w·log Σ e^logit_m. Halving is exact, so a
  // model paired with itself changes nothing.
  const int64_t rows = tokens.numel(), vocab = config_.target_vocab;
  const float weight = 1.0f / static_cast<float>(models_.size());
  ensemble_scores_.assign(static_cast<size_t>(rows * vocab), 0.0f);
  ensemble_normalisers_.assign(static_cast<size_t>(rows), 0.0);
  for (size_t m = 0; m < models_.size(); ++m) {
    const Tensor logits = be_->to_host(decoders_[m].step(*be_, tokens), host_logits_);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = logits.f32() + r * vocab;
      float* mean = ensemble_scores_.data() + r * vocab;
      block_maxima(row, vocab, block_maxima_.data());
      const float max = *std::max_element(block_maxima_.begin(), block_maxima_.begin() + blocks_);
      ensemble_normalisers_[static_cast<size_t>(r)] += static_cast<double>(weight) * log_normaliser(row, vocab, max);
      add_scaled(weight, row, vocab, mean);
    }
  }
  return Tensor::view(ensemble_scores_.data(), Shape{rows, vocab}, DType::f32);
}

void BeamSearch::reserve_row_scratch(int64_t rows) {
  if (block_maxima_.size() < static_cast<size_t>(rows * blocks_)) block_maxima_.resize(static_cast<size_t>(rows * blocks_));
  if (row_normalisers_.size() < static_cast<size_t>(rows)) row_normalisers_.resize(static_cast<size_t>(rows));
}

void BeamSearch::row_statistics(const Tensor& scores, int64_t rows) {
  reserve_row_scratch(rows);
  const int64_t vocab = config_.target_vocab;
  const bool ensemble = models_.size() > 1, normalised = !ranks_by_logits();
#pragma omp parallel for if (rows * vocab > (1 << 18))
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = scores.f32() + r * vocab;
    float* maxima = block_maxima_.data() + r * blocks_;
    block_maxima(row, vocab, maxima);
    double normaliser = 0.0;
    if (ensemble) normaliser = ensemble_normalisers_[static_cast<size_t>(r)];
    else if (normalised) normaliser = log_normaliser(row, vocab, *std::max_element(maxima, maxima + blocks_));
    row_normalisers_[static_cast<size_t>(r)] = normaliser;
  }
}

void BeamSearch::select_rows(RowSelection what) {
  // A sentence's k beams share its memory row.
  for (IncrementalDecoder& decoder : decoders_) decoder.select_rows(*be_, next_rows_, what, options_.beam);
}

double BeamSearch::normalise(double log_prob, int64_t pieces) const {
  const int64_t length = options_.scoring == BeamScoring::heed ? pieces + 1 : std::max<int64_t>(pieces, 1);
  return log_prob / std::pow(static_cast<double>(length), static_cast<double>(options_.length_penalty));
}

void BeamSearch::collect_candidates(const float* scores, int32_t row, double beam_log_prob, int64_t count,
                                    bool force_eos) {
  const ModelConfig& c = config_;
  const int64_t vocab = c.target_vocab;
  if (force_eos && options_.scoring == BeamScoring::transformers) {
    candidates_.push_back({beam_log_prob, row, c.eos_id});
    return;
  }
  beam_log_prob -= row_normalisers_[static_cast<size_t>(row)];  // log p(token) = its score − the row's normaliser
  const float* maxima = block_maxima_.data() + static_cast<int64_t>(row) * blocks_;
  const float* log_probs = scores;  // up to that constant, now in beam_log_prob
  if (force_eos) {
    candidates_.push_back({beam_log_prob + log_probs[c.eos_id], row, c.eos_id});
    return;
  }
  // A small sorted list of the row's best tokens; most tokens fail the first comparison, and
  // most blocks of tokens fail it by their largest (beam + x grows with x, so skipping a block
  // whose largest fails changes nothing).
  const size_t first = candidates_.size();
  for (int64_t start = 0, b = 0; start < vocab; start += kCandidateBlock, ++b) {
    if (candidates_.size() - first == static_cast<size_t>(count) &&
        beam_log_prob + maxima[b] <= candidates_.back().log_prob)
      continue;
    for (int32_t v = static_cast<int32_t>(start); v < static_cast<int32_t>(std::min(vocab, start + kCandidateBlock)); ++v) {
      if (v == c.pad_id || v == c.bos_id) continue;  // never generated
      const double lp = beam_log_prob + log_probs[v];
      const size_t have = candidates_.size() - first;
      if (have == static_cast<size_t>(count) && lp <= candidates_.back().log_prob) continue;
      if (have < static_cast<size_t>(count)) candidates_.push_back({lp, row, v});
      else candidates_.back() = {lp, row, v};
      for (size_t i = candidates_.size() - 1; i > first && candidates_[i].log_prob > candidates_[i - 1].log_prob; --i)
        std::swap(candidates_[i], candidates_[i - 1]);
    }
  }
}

std::vector<int32_t> BeamSearch::trace(int64_t step, int32_t row) const {
  // The hypothesis ending in `row` at `step` made `step` choices; walk their parents back.
  std::vector<int32_t> pieces(static_cast<size_t>(step));
  for (int64_t t = step - 1; t >= 0; --t) {
    pieces[static_cast<size_t>(t)] = step_tokens_[static_cast<size_t>(t * rows_capacity_ + row)];
    row = step_parents_[static_cast<size_t>(t * rows_capacity_ + row)];
  }
  return pieces;
}

int64_t BeamSearch::capacity_for(int64_t longest) const {
  // Rounded up to a multiple of 8: the step's primitives depend on it, and batches of similar
  // length then share them instead of JIT-compiling their own.
  return std::min((longest + 1 + 7) / 8 * 8, config_.max_positions);
}

void BeamSearch::start(const std::vector<std::vector<int32_t>>& sources, int64_t capacity) {
  const Tensor source = source_ids(sources, config_.batch_layout());
  for (IncrementalDecoder& decoder : decoders_) decoder.start(*be_, source, capacity);
  // The first step decodes one row per sentence: its k beams would all extend the same bos. The
  // step's candidates then split each sentence into k rows (CTranslate2 does the same).
  beam_log_probs_.assign(sources.size(), 0.0);
}

void BeamSearch::expand_to_beams(int64_t sentences) {
  next_rows_.clear();
  for (int64_t s = 0; s < sentences; ++s)
    for (int64_t b = 0; b < options_.beam; ++b) next_rows_.push_back(static_cast<int32_t>(s));
  select_rows(RowSelection::everything);
}

void BeamSearch::reserve(int64_t sentences, int64_t source_length) {
  if (sentences <= 0) return;
  // In a layout pass: the buffers are laid out as a real batch lays them out, without its work
  // (an encoder pass and a step of the largest batch).
  const LayoutPass layout(*be_);
  const ModelConfig& c = config_;
  const int64_t longest = std::min(options_.length.limit(source_length), c.max_positions - 1);
  // The pieces do not matter, only the shapes: any id will do.
  start(std::vector<std::vector<int32_t>>(static_cast<size_t>(sentences), std::vector<int32_t>(static_cast<size_t>(source_length), c.eos_id)),
        capacity_for(longest));
  expand_to_beams(sentences);  // the widest a step gets: k rows per sentence
  const int64_t rows = sentences * options_.beam;
  if (tokens_.size() < static_cast<size_t>(rows)) tokens_.resize(static_cast<size_t>(rows));
  std::fill(tokens_.begin(), tokens_.end(), c.eos_id);
  step_scores(Tensor::view(tokens_.data(), Shape{rows}, DType::i32));
  select_rows(RowSelection::everything);  // the gather targets
  for (IncrementalDecoder& decoder : decoders_) decoder.reserve_capacity(*be_);
  step_tokens_.reserve(static_cast<size_t>((longest + 1) * rows));
  step_parents_.reserve(static_cast<size_t>((longest + 1) * rows));
  candidates_.reserve(static_cast<size_t>(2 * options_.beam * options_.beam));
  reserve_row_scratch(rows);
}

std::vector<std::vector<Hypothesis>> BeamSearch::translate(const std::vector<std::vector<int32_t>>& sources) {
  const ModelConfig& c = config_;
  const int64_t sentences = static_cast<int64_t>(sources.size());
  const int64_t k = options_.beam;
  std::vector<std::vector<Hypothesis>> finished(static_cast<size_t>(sentences));
  if (sentences == 0) return finished;

  std::vector<int64_t> limits(static_cast<size_t>(sentences));
  int64_t longest = 0;
  for (int64_t s = 0; s < sentences; ++s) {
    limits[s] = std::min(options_.length.limit(static_cast<int64_t>(sources[s].size())), c.max_positions - 1);
    longest = std::max(longest, limits[s]);
  }
  start(sources, capacity_for(longest));
  rows_capacity_ = sentences * k;
  step_tokens_.assign(static_cast<size_t>((longest + 1) * rows_capacity_), 0);
  step_parents_.assign(static_cast<size_t>((longest + 1) * rows_capacity_), 0);
  std::vector<int64_t> active(static_cast<size_t>(sentences));  // sentence of each row group
  std::iota(active.begin(), active.end(), 0);
  // Tokens are chosen on the host (the model moves them to the backend's device), and the
  // logits read there: in place on a CPU backend, copied from a device.
  if (tokens_.size() < static_cast<size_t>(rows_capacity_)) tokens_.resize(static_cast<size_t>(rows_capacity_));
  std::fill(tokens_.begin(), tokens_.end(), c.bos_id);

  candidates_.reserve(static_cast<size_t>(2 * k * k));
  for (int64_t step = 0; !active.empty(); ++step) {
    const int64_t width = step == 0 ? 1 : k;  // rows per sentence in this step
    const int64_t rows = static_cast<int64_t>(active.size()) * width;
    const Tensor scores = step_scores(Tensor::view(tokens_.data(), Shape{rows}, DType::i32));
    row_statistics(scores, rows);

    next_rows_.clear();
    next_log_probs_.clear();
    next_tokens_.clear();
    std::vector<int64_t>& still_active = active;  // compacted in place below
    size_t kept_groups = 0;
    for (size_t g = 0; g < active.size(); ++g) {
      const int64_t sentence = active[g];
      const bool at_limit = step >= limits[sentence];
      candidates_.clear();
      for (int64_t b = 0; b < width; ++b) {
        const int32_t row = static_cast<int32_t>(static_cast<int64_t>(g) * width + b);
        if (beam_log_probs_[row] == kImpossible) continue;
        collect_candidates(scores.f32() + row * c.target_vocab, row, beam_log_probs_[row], 2 * k, at_limit);
      }
      std::sort(candidates_.begin(), candidates_.end(),
                [](const Candidate& a, const Candidate& b) { return a.log_prob > b.log_prob; });
      std::vector<Hypothesis>& done = finished[static_cast<size_t>(sentence)];
      int64_t kept = 0;
      for (size_t rank = 0; rank < candidates_.size(); ++rank) {
        const Candidate& cand = candidates_[rank];
        if (kept == k || static_cast<int64_t>(done.size()) >= k) break;
        if (cand.token == c.eos_id) {
          // An end of sentence finishes a hypothesis only when it ranks among this step's best
          // k (as in fairseq): one further down would take a finished slot and stop the search
          // before better, longer hypotheses end. Nor on the first step, unless forced: a
          // sentence is never translated as nothing.
          if (static_cast<int64_t>(rank) >= k || (step == 0 && !at_limit)) continue;
          Hypothesis h;
          h.pieces = trace(step, cand.row);
          if (!ranks_by_logits()) {  // by logits, cand.log_prob sums logits: no score
            h.log_prob = cand.log_prob;
            h.score = normalise(cand.log_prob, step);
          }
          done.push_back(std::move(h));
          continue;
        }
        next_rows_.push_back(cand.row);
        next_tokens_.push_back(cand.token);
        next_log_probs_.push_back(cand.log_prob);
        ++kept;
      }
      if (static_cast<int64_t>(done.size()) >= k || at_limit || kept == 0) {
        // This sentence is over: its surviving beams leave with it.
        next_rows_.resize(next_rows_.size() - static_cast<size_t>(kept));
        next_tokens_.resize(next_tokens_.size() - static_cast<size_t>(kept));
        next_log_probs_.resize(next_log_probs_.size() - static_cast<size_t>(kept));
        continue;
      }
      for (; kept < k; ++kept) {  // fewer than k live beams: pad with dead ones
        next_rows_.push_back(next_rows_.back());
        next_tokens_.push_back(c.pad_id);
        next_log_probs_.push_back(kImpossible);
      }
      still_active[kept_groups++] = sentence;
    }
    const bool same_sentences = kept_groups == active.size();
    active.resize(kept_groups);
    if (active.empty()) break;

    for (size_t r = 0; r < next_rows_.size(); ++r) {
      step_tokens_[static_cast<size_t>(step * rows_capacity_) + r] = next_tokens_[r];
      step_parents_[static_cast<size_t>(step * rows_capacity_) + r] = next_rows_[r];
    }
    // After the first step every sentence widens from one row to k: its memory rows follow.
    // Greedy search keeps every row in place until a sentence ends: then nothing moves.
    if (!same_sentences || !rows_stay(next_rows_, rows))
      select_rows(same_sentences && step > 0 ? RowSelection::self_attention : RowSelection::everything);
    std::copy(next_tokens_.begin(), next_tokens_.end(), tokens_.begin());
    beam_log_probs_.assign(next_log_probs_.begin(), next_log_probs_.end());
  }

  for (auto& hypotheses : finished) {
    std::stable_sort(hypotheses.begin(), hypotheses.end(), [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
    if (static_cast<int64_t>(hypotheses.size()) > options_.n_best) hypotheses.resize(static_cast<size_t>(options_.n_best));
  }
  return finished;
}

BeamScoring model_beam_scoring(const ModelExtras& extras, const std::string& what) {
  const auto text = metadata_value(extras.metadata, "translate-beam-scoring");
  if (!text || *text == "heed") return BeamScoring::heed;
  HEED_CHECK(*text == "transformers", "{}'s metadata: translate-beam-scoring must be heed or transformers, got '{}'",
             what, *text);
  return BeamScoring::transformers;
}

}  // namespace heed
