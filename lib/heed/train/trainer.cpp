#include "heed/train/trainer.h"

#include <fmt/format.h>
#include <sys/statvfs.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>

#include "heed/backend/precision_choice.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/system_memory.h"
#include "heed/core/threads.h"
#include "heed/dist/communicator.h"
#include "heed/dist/gradient_reducer.h"
#include "heed/train/metrics_log.h"
#include "heed/train/output_directory.h"
#include "heed/train/progress_report.h"
#include "heed/train/training_report.h"
#include "heed/train/validation.h"
#include "heed/train/stop_signal.h"

namespace heed {
namespace {

// The model metadata key of the training data's checksum (data/corpus.h), for --resume to check.
constexpr const char* kTrainDataChecksumKey = "train-data-checksum";

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// A vocabulary file, parsed once (vocabularies_of takes the parsed one), with the file named in an
// error, and for a .vocab listing what to give instead.
NamedBlob read_vocabulary_file(const char* name, const std::string& path, const char* option) {
  NamedBlob blob{name, read_file(path)};
  const std::string what = fmt::format("{} {}", option, path);
  try {
    blob.loaded = std::make_shared<Vocabulary>(Vocabulary::from_serialized(blob.bytes, what));
  } catch (const Error& e) {
    if (!path.ends_with(".vocab")) throw;
    fail("{} (heed vocab writes PREFIX.model, the model to give here, and PREFIX.vocab, its pieces listed for "
         "reading)", e.what());
  }
  return blob;
}

ModelExtras read_vocabulary_files(const TrainConfig& c) {
  ModelExtras extras;
  if (!c.vocabulary.empty()) {
    HEED_CHECK(c.source_vocabulary.empty() && c.target_vocabulary.empty(),
               "give either --vocab (joint) or --src-vocab and --tgt-vocab, not both");
    extras.vocabularies.push_back(read_vocabulary_file("joint", c.vocabulary, "--vocab"));
  } else {
    HEED_CHECK(!c.source_vocabulary.empty() && !c.target_vocabulary.empty(),
               "a vocabulary is needed: --vocab FILE (joint) or --src-vocab FILE --tgt-vocab FILE (run `heed vocab` first)");
    extras.vocabularies.push_back(read_vocabulary_file("source", c.source_vocabulary, "--src-vocab"));
    extras.vocabularies.push_back(read_vocabulary_file("target", c.target_vocabulary, "--tgt-vocab"));
  }
  return extras;
}

// --guided-alignment: the head it trains, in the model `mc` describes (which records it for
// `heed align`).
void choose_guided_head(const TrainConfig& c, ModelConfig& mc) {
  mc.alignment_layer = c.alignment_layer >= 0 ? c.alignment_layer
                                             : static_cast<int32_t>(std::max<int64_t>(mc.decoder_layers - 2, 0));
  mc.alignment_head = c.alignment_head;
  mc.alignment_step = c.alignment_step;
  HEED_CHECK(mc.alignment_layer < mc.decoder_layers, "--alignment-layer {}: the model has decoder layers 0 to {}",
             mc.alignment_layer, mc.decoder_layers - 1);
  HEED_CHECK(mc.alignment_head < mc.heads, "--alignment-head {}: the model has heads 0 to {}", mc.alignment_head,
             mc.heads - 1);
}

// A full disk found at the first save would lose the work before it: check the room for the
// files a training keeps (checkpoint.state: the f32 model and two Adam moments; last.heed and
// best.heed: the model each) plus one checkpoint more, written beside the old one before it goes.
std::string size_text(double bytes) {
  if (bytes >= 1e9) return fmt::format("{:.1f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.1f} MB", bytes / 1e6);
  return fmt::format("{:.0f} kB", std::ceil(bytes / 1e3));
}

// `embedded_bytes`: what every model file carries beside the weights (vocabularies, metadata).
void check_free_space(const std::string& dir, int64_t parameters, int64_t embedded_bytes, int64_t keep_last) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return;
  const double weight_bytes = static_cast<double>(parameters) * sizeof(float);
  // The checkpoint holds the weights and Adam's two moments; a save writes a copy beside the old file.
  const double files = 4.0 + static_cast<double>(keep_last);
  double needed = (8.0 + static_cast<double>(keep_last)) * weight_bytes + files * static_cast<double>(embedded_bytes);
  for (const char* file : {kCheckpointFile, kLastModelFile, kBestModelFile}) {
    std::error_code ec;
    const auto size = fs::file_size(fs::path(dir) / file, ec);
    if (!ec) needed -= static_cast<double>(size);  // replaced in place
  }
  const double available = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  HEED_CHECK(available >= needed,
             "the output directory {} has {} free, but training needs about {} for its checkpoint and models "
             "(checkpoint.state, last.heed, best.heed, and a copy while saving): free some space or choose another "
             "--output", dir, size_text(available), size_text(needed));
}

class Trainer {
 public:
  Trainer(const TrainConfig& config, const ModelConfig& model_config, std::unique_ptr<Backend> be);
  TrainSummary run();

 private:
  void read_corpora();
  void update(const std::vector<int32_t>& indices);
  // The loss sums of every process's share of the batch.
  LossSums summed_across_processes(const LossSums& mine) const;
  // Backward from this process's share (if it has one), the gradients then summed across processes.
  void backward(const LossGradients& gradients, float grad_scale, bool has_share);
  void reserve_workspace(const BatchPlan& plan);
  void keep_validated_model();
  void validate_and_checkpoint();
  void save_checkpoint_files();
  // The model, readable on the host (to save it): itself on a CPU backend, else a copy
  // downloaded once per update.
  const Transformer& model_on_host();
  void log_progress(bool force);
  double elapsed() const { return progress_.elapsed_seconds + seconds_between(session_start_, Clock::now()); }
  // Moves the time since session_start_ into progress_.elapsed_seconds (before it is saved).
  void bank_elapsed() {
    progress_.elapsed_seconds = elapsed();
    session_start_ = Clock::now();
  }
  std::string limit_reached() const;
  // --init MODEL: model_ (on the host) and extras_ from that file (requested: this run's dropout rates).
  void start_from_model(const ModelConfig& requested);
  TrainSummary summary(const std::string& reason) const;
  double eta_seconds(int64_t batches_in_epoch) const;
  bool improved(double metric, double cross_entropy) const;
  std::string path(const char* file) const { return (fs::path(config_.output_dir) / file).string(); }
  // This process's share of a batch of `sentences` when N processes train together: sequences
  // [first, end), contiguous, in rank order.
  std::pair<int64_t, int64_t> my_share(int64_t sentences) const {
    const int64_t n = comm_.size(), r = comm_.rank();
    return {sentences * r / n, sentences * (r + 1) / n};
  }
  // Whether to stop, agreed by every process (each may see a signal, or time, its own way).
  std::string agreed_limit() const;

  TrainConfig config_;
  Communicator& comm_ = Communicator::world();  // the processes training together; only rank 0 writes and logs
  std::optional<OutputDirectory> output_;  // rank 0's: made, checked and locked before anything else; released last
  GradientReducer reducer_{comm_};         // sums the gradients across processes as backward produces them
  std::vector<GradientReducer::Range> gradient_buckets_;  // its buckets: the model's layers, in backward's order
  std::unique_ptr<Backend> be_;
  std::unique_ptr<Transformer> model_;     // its weights on be_'s device
  std::unique_ptr<Transformer> host_copy_;  // what is saved, when that device is not the host
  int64_t host_copy_update_ = -1;          // the update host_copy_ holds
  ModelExtras extras_;
  ModelVocabularies vocab_;
  std::unique_ptr<Adam> adam_;
  TrainingProgress progress_;
  std::unique_ptr<MetricsLog> metrics_;  // DIR/metrics.tsv
  Corpus train_, valid_;
  std::vector<int64_t> kept_updates_;  // the update-U.heed files this training wrote and keeps, oldest first
  std::vector<std::string> valid_references_;  // target lines of the kept validation pairs
  Clock::time_point session_start_ = Clock::now();
  int64_t updates_at_last_validation_ = -1;
  size_t plan_size_hint_ = 0;  // batches in the current epoch, for the ETA

  ProgressReport report_{config_.guided_alignment_weight};  // the progress lines
  double allreduce_seconds_ = 0.0;  // waiting for the gradient sums after backward (the slowest process included)
  double update_seconds_ = 0.0;     // all of update()
};

Trainer::Trainer(const TrainConfig& config, const ModelConfig& model_config, std::unique_ptr<Backend> be)
    : config_(config), be_(std::move(be)) {
  if (comm_.is_root())
    output_.emplace(config_.output_dir, config_.resume      ? OutputUse::resume
                                        : config_.overwrite ? OutputUse::overwrite
                                                            : OutputUse::fresh);
  if (comm_.size() > 1)
    spdlog::info("data-parallel training: {}; each takes 1/{} of every batch of --batch-tokens {}", comm_.describe(),
                 comm_.size(), config_.batch_tokens);
  config_.precision = usable_precision(*be_, config_.precision, "train");
  be_->set_matmul_precision(config_.precision);
  if (config_.precision != Precision::f32) spdlog::info("matmuls in {}, with f32 sums and f32 weights", precision_name(config_.precision));
  if (config_.resume) {
    LoadedCheckpoint checkpoint = load_checkpoint(path(kCheckpointFile));
    model_ = std::move(checkpoint.model.model);
    extras_ = std::move(checkpoint.model.extras);
    progress_ = checkpoint.progress;
    HEED_CHECK(progress_.processes == comm_.size(),
               "{} was written by a training of {} process(es); resume it with as many (mpirun -np {}), not {}: another "
               "split of each batch would not continue the same training",
               path(kCheckpointFile), progress_.processes, progress_.processes, comm_.size());
    model_->parameters().place_on(*be_);
    adam_ = std::make_unique<Adam>(*be_, model_->parameters(), config_.optimizer);
    adam_->restore(checkpoint.first_moment, checkpoint.second_moment, progress_.updates);
    // The kept models written before the interruption: update-U.heed up to the checkpoint's update
    // (a fresh training starts in a directory without any, --overwrite having removed them).
    if (comm_.is_root()) {
      for (const auto& entry : fs::directory_iterator(config_.output_dir))
        if (const auto u = kept_model_update(entry.path().filename().string()); u && *u <= progress_.updates)
          kept_updates_.push_back(*u);
      std::sort(kept_updates_.begin(), kept_updates_.end());
    }
    spdlog::info("resuming from {}: update {}, epoch {}, batch {} of the epoch, {} trained", path(kCheckpointFile),
                 progress_.updates, progress_.epoch + 1, progress_.next_batch, duration_text(progress_.elapsed_seconds));
  } else {
    progress_.processes = comm_.size();
    if (!config_.init_model.empty()) {
      start_from_model(model_config);
    } else {
      extras_ = read_vocabulary_files(config_);
      ModelConfig mc = model_config;
      const ModelVocabularies v = vocabularies_of(extras_, "the vocabulary files");
      mc.source_vocab = v.source->size();
      mc.target_vocab = v.target->size();
      mc.joint_vocabulary = v.source == v.target;
      if (!config_.guided_alignment.empty()) choose_guided_head(config_, mc);
      model_ = std::make_unique<Transformer>(mc);
      model_->parameters().initialize(config_.seed);
    }
    model_->parameters().place_on(*be_);
    adam_ = std::make_unique<Adam>(*be_, model_->parameters(), config_.optimizer);
  }
  // Before this run's options replace the metadata: what the checkpoint was trained on.
  const std::optional<std::string> trained_on =
      config_.resume ? metadata_value(extras_.metadata, kTrainDataChecksumKey) : std::nullopt;
  extras_.metadata = config_.effective_config;
  if (comm_.is_root()) {
    int64_t embedded = static_cast<int64_t>(extras_.metadata.size()) + 4096;  // the header and tables, generously
    for (const auto& v : extras_.vocabularies) embedded += static_cast<int64_t>(v.bytes.size());
    check_free_space(config_.output_dir, model_->parameters().count(), embedded, config_.keep_last);
  }
  vocab_ = vocabularies_of(extras_, "the model");
  spdlog::info("model: {} parameters; {} encoder and {} decoder layers of width {}, {} attention, {} threads",
               model_->parameters().count(), model_->config().encoder_layers, model_->config().decoder_layers,
               model_->config().model_dim, to_string(model_->config().attention), current_threads());
  read_corpora();
  // How finely the vocabulary cuts this text, for `heed translate` to tell text unlike it.
  extras_.metadata = with_source_text_figures(extras_.metadata, train_.stats.source_pieces, train_.stats.source_words,
                                              train_.stats.kept);
  const std::string checksum = fmt::format("{:016x}", corpus_checksum(train_));
  HEED_CHECK(!trained_on || *trained_on == checksum,
             "--resume {}: {} and {} are not the text the checkpoint was trained on (they changed since: checksum {} "
             "then, {} now), so resuming would not continue the same training; restore them, or start a new training "
             "from its model with --init {}", config_.output_dir, config_.train_source, config_.train_target, *trained_on,
             checksum, path(kLastModelFile));
  extras_.metadata = with_metadata_value(extras_.metadata, kTrainDataChecksumKey, checksum);
  if (comm_.is_root())
    metrics_ = std::make_unique<MetricsLog>(path(kMetricsFile),
                                            config_.resume ? std::optional<int64_t>(progress_.updates) : std::nullopt);
  gradient_buckets_ = model_->gradient_ranges();
}

void Trainer::start_from_model(const ModelConfig& requested) {
  const std::string& file = config_.init_model;
  HEED_CHECK(config_.vocabulary.empty() && config_.source_vocabulary.empty() && config_.target_vocabulary.empty(),
             "--init {}: the model brings its own vocabulary; give no --vocab, --src-vocab or --tgt-vocab", file);
  LoadedModel loaded = load_model(file);
  // A model whose weights hold NaN or infinity (from a diverged run) would make every gradient
  // non-finite: every batch skipped, a "best" model that is the broken one.
  const Tensor& weights = loaded.model->parameters().values();
  const int64_t non_finite = std::count_if(weights.f32(), weights.f32() + weights.numel(), [](float w) { return !std::isfinite(w); });
  HEED_CHECK(non_finite == 0, "--init {}: {} of its {} weights are not finite numbers (NaN or infinity): a diverged model "
             "cannot be fine-tuned; start from an earlier one", file, non_finite, weights.numel());
  ModelConfig mc = loaded.model->config();
  mc.dropout = requested.dropout;
  mc.attention_dropout = requested.attention_dropout;
  // A fine-tune may start guiding a head (or guide another): which head is guided is a training
  // choice, recorded in the model for `heed align`, not part of the weights.
  if (!config_.guided_alignment.empty()) choose_guided_head(config_, mc);
  // Dropout lives in the layers, so the weights move into a model built with this run's rates.
  model_ = std::make_unique<Transformer>(mc);
  const Tensor& from = loaded.model->parameters().values();
  std::copy_n(from.f32(), from.numel(), model_->parameters().values().f32());
  extras_ = std::move(loaded.extras);
  spdlog::info("starting from {}: its architecture, weights and vocabulary; dropout {}, attention dropout {}; a new "
               "optimiser, learning rate from warm-up", file, mc.dropout, mc.attention_dropout);
}

void Trainer::read_corpora() {
  const int64_t longest = model_->config().max_positions - 1;  // room for bos/eos
  const int64_t max_length = std::min(config_.max_length, longest);
  HEED_CHECK(config_.guided_alignment.empty() || model_->config().has_alignment_head(),
             "--guided-alignment needs a model with an alignment head: this checkpoint was created without one (a resumed "
             "training cannot start guiding; fine-tune with --init instead)");
  const auto reading = std::chrono::steady_clock::now();
  train_ = read_parallel_corpus(config_.train_source, config_.train_target, *vocab_.source, *vocab_.target, max_length,
                                config_.guided_alignment);
  const CorpusStats& s = train_.stats;
  spdlog::info("training data: {} pairs kept of {} lines ({} skipped as empty, {} as longer than {} pieces); {:.1f} MB "
               "of pieces{} in memory, read in {:.1f} s (the process's peak resident memory so far: {:.0f} MB)", s.kept,
               s.lines, s.empty, s.too_long, max_length, static_cast<double>(s.bytes) / 1e6,
               config_.guided_alignment.empty() ? "" : " and links", seconds_between(reading, std::chrono::steady_clock::now()),
               static_cast<double>(peak_resident_bytes()) / 1e6);
  HEED_CHECK(s.kept > 0 || s.too_long == 0, "every pair of {} and {} has a side longer than {} pieces ({} pairs, {} empty): "
             "raise --max-length (the model takes up to {})", config_.train_source, config_.train_target, max_length,
             s.too_long, s.empty, longest);
  HEED_CHECK(s.kept > 0, "{} and {} hold no sentence pair: every line is empty on one side or both", config_.train_source,
             config_.train_target);
  if (!config_.guided_alignment.empty()) {
    const auto linked = std::count_if(train_.pairs.begin(), train_.pairs.end(), [](const SentencePair& p) { return !p.piece_links.empty(); });
    spdlog::info("guided alignment: links for {} of {} pairs from {}, weight {}, head {} of decoder layer {} at the {} step", linked,
                 train_.pairs.size(), config_.guided_alignment, config_.guided_alignment_weight,
                 model_->config().alignment_head, model_->config().alignment_layer, to_string(model_->config().alignment_step));
  }
  if (!config_.valid_source.empty() || !config_.valid_target.empty()) {
    HEED_CHECK(!config_.valid_source.empty() && !config_.valid_target.empty(),
               "validation needs both --valid-src and --valid-tgt");
    valid_ = read_parallel_corpus(config_.valid_source, config_.valid_target, *vocab_.source, *vocab_.target, longest);
    const std::vector<std::string> targets = read_lines(config_.valid_target);
    for (const SentencePair& p : valid_.pairs) valid_references_.push_back(targets[p.line]);
    spdlog::info("validation data: {} pairs ({} skipped as empty)", valid_.stats.kept, valid_.stats.empty);
  }
}

// One update: this process's share of the batch → its loss → the sums across processes →
// backward → the optimiser.
void Trainer::update(const std::vector<int32_t>& indices) {
  const auto start = Clock::now();
  BatchTensors batch = make_batch(train_.pairs, indices, model_->config().batch_layout());
  batch.batch.alignment_weight = config_.guided_alignment_weight;
  model_->parameters().zero_grads(*be_);
  // With N processes each runs its share of the batch's sentences, padded as the whole batch is,
  // as those sentences (RunMode::first_sequence), so that every dropout mask is the one process's;
  // each update's masks derive from (seed, update), so that a resumed run draws the same ones.
  const auto [first, end] = my_share(batch.batch.source.shape()[0]);
  const RunMode mode{.training = true,
                     .seed = mix64(config_.seed) ^ mix64(static_cast<uint64_t>(progress_.updates) + 1),
                     .first_sequence = first};
  LossSums mine;
  LossGradients gradients;
  if (end > first) {
    const Batch share = comm_.size() > 1 ? batch.batch.sequences(first, end) : batch.batch;
    mine = model_->forward_loss(*be_, share, config_.label_smoothing, mode, &gradients);
  }
  // The loss is a mean over the whole batch's target tokens: the processes agree on the sums
  // first, then each scales its gradient by the same count and the gradients are summed.
  const LossSums sums = summed_across_processes(mine);
  backward(gradients, 1.0f / static_cast<float>(std::max<int64_t>(sums.tokens, 1)), end > first);
  const UpdateInfo info = adam_->step(*be_);
  if (info.skipped) {
    spdlog::warn("update {}: the gradient is not finite; the batch is skipped", progress_.updates + 1);
    return;
  }
  progress_.updates = adam_->updates();
  report_.add(progress_.updates, sums, info, seconds_between(start, Clock::now()));
  update_seconds_ += seconds_between(start, Clock::now());
}

LossSums Trainer::summed_across_processes(const LossSums& mine) const {
  double totals[5] = {mine.loss, mine.nll, mine.alignment, static_cast<double>(mine.tokens), static_cast<double>(mine.aligned_rows)};
  comm_.sum(totals, 5);
  return {.loss = totals[0], .nll = totals[1], .tokens = static_cast<int64_t>(totals[3]), .alignment = totals[2],
          .aligned_rows = static_cast<int64_t>(totals[4])};
}

void Trainer::backward(const LossGradients& gradients, float grad_scale, bool has_share) {
  if (comm_.size() == 1) {
    model_->backward(*be_, gradients, grad_scale);
    return;
  }
  // Each layer's gradients are summed across processes as soon as backward has them.
  const Tensor& grads = model_->parameters().grads();
  HEED_CHECK(grads.device() == Device::cpu, "data-parallel training needs the gradients in host memory");
  reducer_.start(grads.f32(), grads.numel(), gradient_buckets_);
  if (has_share)
    model_->backward(*be_, gradients, grad_scale, [this](int64_t from, int64_t to) { reducer_.ready(from, to); });
  const auto reduce_start = Clock::now();
  reducer_.finish();
  allreduce_seconds_ += seconds_between(reduce_start, Clock::now());
}

// The workspace (activations, gradients, attention and loss scratch) is laid out before update 1
// by running forward and backward on the batches of the epoch that need the most of it: a run
// whose batches do not fit fails now, saying how much they need, instead of hours in. Buffers
// only grow, so every other batch of the epoch fits in what these leave (a later epoch's
// reshuffled batches differ little). The passes change nothing: gradients are zeroed after
// them, Adam never sees them, and dropout masks derive from the update number.
void Trainer::reserve_workspace(const BatchPlan& plan) {
  struct Extent {
    int64_t sentences = 0, source = 0, target = 0;  // padded: pieces + eos (bos)
    double measure(int which) const {
      const double b = static_cast<double>(sentences), s = static_cast<double>(source), t = static_cast<double>(target);
      switch (which) {
        case 0: return b * t;      // target-side activations, logits
        case 1: return b * s;      // encoder activations
        case 2: return b * s * s;  // encoder self-attention
        case 3: return b * t * t;  // decoder self-attention
        default: return b * t * s; // cross-attention
      }
    }
  };
  constexpr int kMeasures = 5;
  std::vector<size_t> largest(kMeasures, 0);
  std::vector<Extent> extents(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    Extent& e = extents[i];
    e.sentences = static_cast<int64_t>(plan[i].size());
    for (int32_t pair : plan[i]) {
      e.source = std::max<int64_t>(e.source, static_cast<int64_t>(train_.pairs[pair].source.size()) + 1);
      e.target = std::max<int64_t>(e.target, static_cast<int64_t>(train_.pairs[pair].target.size()) + 1);
    }
    for (int m = 0; m < kMeasures; ++m)
      if (e.measure(m) > extents[largest[m]].measure(m)) largest[m] = i;
  }
  std::sort(largest.begin(), largest.end());
  largest.erase(std::unique(largest.begin(), largest.end()), largest.end());

  const auto start = Clock::now();
  const size_t before = tensor_memory().in_use;
  std::string shapes;
  for (size_t i : largest) {
    const Extent& e = extents[i];
    shapes += fmt::format("{}{}×{}→{}", shapes.empty() ? "" : ", ", e.sentences, e.source, e.target);
    try {
      BatchTensors batch = make_batch(train_.pairs, plan[i], model_->config().batch_layout());
      batch.batch.alignment_weight = config_.guided_alignment_weight;
      model_->parameters().zero_grads(*be_);
      const auto [first, end] = my_share(batch.batch.source.shape()[0]);  // what this process will run of it
      if (end > first) {
        const RunMode mode{.training = true, .seed = mix64(config_.seed), .first_sequence = first};
        LossGradients gradients;
        model_->forward_loss(*be_, batch.batch.sequences(first, end), config_.label_smoothing, mode, &gradients);
        model_->backward(*be_, gradients, 1.0f);
      }
    } catch (const Error& error) {
      fail("a batch of {} sentences of {} source and {} target pieces (padded) does not fit: {}. Lower --batch-tokens "
           "or --max-length",
           e.sentences, e.source, e.target, error.what());
    }
  }
  model_->parameters().zero_grads(*be_);
  const TensorMemory memory = tensor_memory();
  constexpr double kMiB = 1024.0 * 1024.0;
  spdlog::info("workspace: {:.0f} MB laid out for the epoch's largest batches (sentences × source → target pieces: {}); "
               "{:.0f} MB in all with weights and optimiser state{} [{:.1f}s]",
               static_cast<double>(memory.in_use - before) / kMiB, shapes, static_cast<double>(memory.in_use) / kMiB,
               memory.limit ? fmt::format(", of {:.0f} MB available", static_cast<double>(memory.limit) / kMiB) : "",
               seconds_between(start, Clock::now()));
}

// BLEU ties (early in training every BLEU is 0) are broken by cross-entropy.
bool Trainer::improved(double metric, double cross_entropy) const {
  if (!progress_.has_best) return true;
  if (config_.metric == ValidationMetric::cross_entropy) return metric < progress_.best_metric;
  return metric > progress_.best_metric || (metric == progress_.best_metric && cross_entropy < progress_.best_cross_entropy);
}

// --keep-last N: the model of each of the last N validations as update-<U>.heed (for heed
// average); older ones are removed as new ones are written. Only this training's: a file of the
// same pattern that it did not write (a user's, or a higher-numbered stray) is never touched.
void Trainer::keep_validated_model() {
  if (config_.keep_last <= 0 || !comm_.is_root()) return;
  save_model(path(kept_model_name(progress_.updates).c_str()), model_on_host(), extras_);
  kept_updates_.push_back(progress_.updates);
  while (kept_updates_.size() > static_cast<size_t>(config_.keep_last)) {
    std::error_code ec;
    fs::remove(path(kept_model_name(kept_updates_.front()).c_str()), ec);
    kept_updates_.erase(kept_updates_.begin());
  }
}

const Transformer& Trainer::model_on_host() {
  if (model_->parameters().values().device() == Device::cpu) return *model_;
  if (!host_copy_) host_copy_ = std::make_unique<Transformer>(model_->config());
  if (host_copy_update_ != progress_.updates) {
    host_copy_->parameters().download_values(*be_, model_->parameters());
    host_copy_update_ = progress_.updates;
  }
  return *host_copy_;
}

void Trainer::save_checkpoint_files() {
  if (!comm_.is_root()) return;  // the processes hold the same model: one writes it
  save_model(path(kLastModelFile), model_on_host(), extras_);
  save_checkpoint(path(kCheckpointFile), model_on_host(), extras_, *adam_, progress_);
}

void Trainer::validate_and_checkpoint() {
  updates_at_last_validation_ = progress_.updates;
  if (!valid_.pairs.empty() && comm_.is_root()) {  // the others go on to the next update and wait there
    const auto start = Clock::now();
    const Validation v = validate(*be_, *model_, valid_, valid_references_, *vocab_.target,
                                  {.batch_tokens = config_.batch_tokens,
                                   .bleu_sentences = config_.valid_bleu_sentences,
                                   .decode_batch_sentences = config_.decode_batch_sentences,
                                   .beam = config_.validation_beam});
    const double metric = config_.metric == ValidationMetric::bleu ? v.bleu : v.cross_entropy;
    progress_.validations += 1;
    const bool better = improved(metric, v.cross_entropy);
    if (better) {
      progress_.best_metric = metric;
      progress_.best_cross_entropy = v.cross_entropy;
      progress_.has_best = true;
      progress_.validations_without_improvement = 0;
      save_model(path(kBestModelFile), model_on_host(), extras_);
    } else {
      progress_.validations_without_improvement += 1;
    }
    metrics_->add(ValidationRow{.update = progress_.updates,
                                .epoch = progress_.next_batch == 0 ? progress_.epoch : progress_.epoch + 1,
                                .seconds = elapsed(), .cross_entropy = v.cross_entropy, .bleu = v.bleu});
    write_file_atomically(path(kReportFile), training_report_html(read_file(path(kMetricsFile)), config_.output_dir));
    spdlog::info("validation {} at update {} ({} {}): cross-entropy {:.4f}, perplexity {:.2f}, BLEU {:.2f}{} [{:.1f}s]",
                 progress_.validations, progress_.updates, progress_.next_batch == 0 ? "end of epoch" : "in epoch",
                 progress_.next_batch == 0 ? progress_.epoch : progress_.epoch + 1, v.cross_entropy, v.perplexity, v.bleu,
                 better ? fmt::format(" — new best, saved {}", kBestModelFile)
                        : fmt::format(" — no improvement for {} validation(s)", progress_.validations_without_improvement),
                 seconds_between(start, Clock::now()));
  }
  bank_elapsed();
  save_checkpoint_files();
  keep_validated_model();
}

double Trainer::eta_seconds(int64_t batches_in_epoch) const {
  const double rate = progress_.updates > 0 ? elapsed() / static_cast<double>(std::max<int64_t>(progress_.updates, 1)) : 0.0;
  double eta = -1.0;
  const auto consider = [&eta](double value) { eta = eta < 0 ? value : std::min(eta, value); };
  if (config_.max_minutes > 0) consider(config_.max_minutes * 60.0 - elapsed());
  if (config_.max_updates > 0) consider(static_cast<double>(config_.max_updates - progress_.updates) * rate);
  if (config_.max_epochs > 0) {
    const double remaining = static_cast<double>((config_.max_epochs - progress_.epoch) * batches_in_epoch - progress_.next_batch);
    consider(remaining * rate);
  }
  return eta < 0 ? -1.0 : std::max(eta, 0.0);
}

void Trainer::log_progress(bool force) {
  if (!report_.due(force ? 0.0 : config_.progress_seconds)) return;
  const auto batches = static_cast<double>(std::max<size_t>(plan_size_hint_, 1));
  const double done = static_cast<double>(progress_.next_batch) / batches;
  const double per_update = elapsed() / static_cast<double>(std::max<int64_t>(progress_.updates, 1));
  report_.write(metrics_.get(), {.epoch = progress_.epoch + 1, .epoch_done = std::min(done, 1.0),
                                 .update = progress_.updates, .elapsed_seconds = elapsed(),
                                 .epoch_end_seconds = (batches - static_cast<double>(progress_.next_batch)) * per_update,
                                 .eta_seconds = eta_seconds(static_cast<int64_t>(plan_size_hint_))});
}

std::string Trainer::limit_reached() const {
  if (stop_requested()) return "interrupted";
  if (config_.max_updates > 0 && progress_.updates >= config_.max_updates) return fmt::format("reached --max-updates {}", config_.max_updates);
  if (config_.max_minutes > 0 && elapsed() >= config_.max_minutes * 60.0) return fmt::format("reached --max-time {} minutes", config_.max_minutes);
  return "";
}

std::string Trainer::agreed_limit() const {
  const std::string mine = limit_reached();
  if (comm_.size() == 1) return mine;
  if (!comm_.any(!mine.empty())) return "";
  return mine.empty() ? "another process stopped" : mine;
}

TrainSummary Trainer::run() {
  const BatchingOptions batching{config_.batch_tokens, config_.seed};
  std::string reason;
  if (config_.resume && !(reason = limit_reached()).empty()) {
    // Nothing left to do: validating again would only count against --patience.
    spdlog::info("nothing to train: {} ({} updates done already); {} is unchanged", reason, progress_.updates,
                 path(kCheckpointFile));
    return summary(reason);
  }
  bool workspace_reserved = false;
  while (reason.empty()) {
    if (config_.max_epochs > 0 && progress_.epoch >= config_.max_epochs) {
      reason = fmt::format("reached --max-epochs {}", config_.max_epochs);
      break;
    }
    const BatchPlan plan = plan_epoch(train_.pairs, batching, progress_.epoch);
    plan_size_hint_ = plan.size();
    if (!workspace_reserved) {
      reserve_workspace(plan);
      workspace_reserved = true;
    }
    while (progress_.next_batch < static_cast<int64_t>(plan.size())) {
      reason = agreed_limit();
      if (!reason.empty()) break;
      update(plan[progress_.next_batch]);
      progress_.next_batch += 1;
      log_progress(false);
      if (config_.validate_every > 0 && progress_.updates % config_.validate_every == 0) validate_and_checkpoint();
    }
    if (!reason.empty()) break;
    progress_.epoch += 1;
    progress_.next_batch = 0;
    if (config_.validate_every == 0) validate_and_checkpoint();
    // Rank 0 alone validates: its count decides for all.
    if (comm_.any(comm_.is_root() && config_.patience > 0 && progress_.validations_without_improvement >= config_.patience))
      reason = fmt::format("no improvement in {} validations (--patience)", config_.patience);
  }
  log_progress(true);
  if (updates_at_last_validation_ != progress_.updates) {
    if (stop_requested()) {
      bank_elapsed();
      save_checkpoint_files();  // interrupted: save now, validate later
    } else {
      validate_and_checkpoint();
    }
  }
  const TrainSummary s = summary(reason);
  spdlog::info("training stopped: {}. {} updates, {} epochs, {}; checkpoint in {}", reason, s.updates, s.epochs_completed,
               duration_text(s.elapsed_seconds), path(kCheckpointFile));
  if (comm_.size() > 1)
    spdlog::info("gradients summed across {} processes: {:.1f} MB each update, {}; {:.1f}% of rank 0's update time spent "
                 "waiting for the sums after backward (the slowest process included)",
                 comm_.size(), static_cast<double>(model_->parameters().grads().bytes()) / 1e6,
                 reducer_.overlaps() ? "layer by layer while backward runs" : "after backward (the MPI library has no thread support)",
                 update_seconds_ > 0 ? 100.0 * allreduce_seconds_ / update_seconds_ : 0.0);
  return s;
}

TrainSummary Trainer::summary(const std::string& reason) const {
  TrainSummary s;
  s.updates = progress_.updates;
  s.epochs_completed = progress_.epoch;
  s.elapsed_seconds = progress_.elapsed_seconds;
  s.best_metric = progress_.best_metric;
  s.stop_reason = reason;
  s.interrupted = stop_requested();
  s.first_loss = report_.first_loss();
  s.last_loss = report_.last_loss();
  s.median_tokens_per_second = report_.median_tokens_per_second();
  return s;
}

}  // namespace

TrainSummary train(const TrainConfig& config, const ModelConfig& model_config, std::unique_ptr<Backend> be) {
  // Rank 0 alone checks and prepares the output directory: if it fails there (in use, too little
  // space, not writable), the other processes must stop too, not wait in their first sum.
  std::optional<Trainer> trainer;
  Communicator::world().run_together(
      [&] { trainer.emplace(config, model_config, be ? std::move(be) : make_backend(config.device)); });
  return trainer->run();
}

}  // namespace heed
