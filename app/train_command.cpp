// heed train: a Transformer from a parallel corpus. Every option can also come from a config
// file (--config FILE, TOML or INI) whose keys are the options' names.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "commands.h"
#include "option_checks.h"
#include "config_file.h"
#include "resume_options.h"
#include "heed/core/error.h"
#include "heed/core/system_memory.h"
#include "heed/dist/communicator.h"
#include "heed/model/model_file.h"
#include "heed/model/transformer.h"
#include "heed/train/stop_signal.h"
#include "heed/train/trainer.h"

namespace heed::app {
namespace {

struct TrainOptions {
  TrainConfig train;
  ModelConfig model;
  std::string resume_dir;
  std::string activation = "relu", attention = "scaled-dot", positions = "sinusoidal", norm = "pre", tying = "all";
  std::string metric = "bleu";
  std::string precision = "f32";
  int32_t alignment_layer = -1, alignment_head = 0;  // -1: the decoder's penultimate layer
  std::string alignment_step = "predict";
  std::string config_file;
  CLI::App* app = nullptr;
};

// --resume DIR: the options DIR's training ran with, for every option not given now (the option
// callbacks write into the shared options, so this runs before run_train copies them).
void adopt_resumed_options(const TrainOptions& o) {
  HEED_CHECK(std::filesystem::is_directory(o.resume_dir), "--resume {}: no such directory (nothing to resume)",
             o.resume_dir);
  const std::string checkpoint = (std::filesystem::path(o.resume_dir) / kCheckpointFile).string();
  HEED_CHECK(std::filesystem::exists(checkpoint), "--resume {}: it holds no {} to resume from", o.resume_dir,
             kCheckpointFile);
  adopt_stored_options(*o.app, checkpoint_training_options(checkpoint), checkpoint);
}

// --init MODEL takes the model's architecture: an architecture option given beside it would be
// silently ignored, so it is an error (dropout rates are training options and may change).
void check_no_architecture_options(const TrainOptions& o) {
  static const char* const kArchitecture[] = {"model-dim", "heads", "ffn-dim", "encoder-layers", "decoder-layers",
                                              "max-positions", "attention-window", "attention-global", "activation",
                                              "attention", "positions", "scale-embeddings", "norm", "tying"};
  for (const char* name : kArchitecture)
    HEED_CHECK(o.app->get_option(fmt::format("--{}", name))->count() == 0,
               "--init {} brings its architecture: do not give --{} (only dropout and training options may change)",
               o.train.init_model, name);
}

int run_train(TrainOptions o) {
  o.model.activation = parse_activation(o.activation);
  o.model.attention = parse_attention_score(o.attention);
  o.model.positions = parse_position_encoding(o.positions);
  o.model.norm = parse_norm_placement(o.norm);
  o.model.tying = parse_embedding_tying(o.tying);
  HEED_CHECK(o.metric == "bleu" || o.metric == "cross-entropy", "--metric must be bleu or cross-entropy, got '{}'", o.metric);
  o.train.metric = o.metric == "bleu" ? ValidationMetric::bleu : ValidationMetric::cross_entropy;
  o.train.precision = parse_precision(o.precision, "--precision");
  HEED_CHECK(o.train.precision != Precision::int8, "--precision: training runs in f32 or bf16, not int8");
  if (!o.train.guided_alignment.empty()) {
    o.train.alignment_layer = o.alignment_layer;  // bounded by the model's layers and heads when training starts
    o.train.alignment_head = o.alignment_head;
    o.train.alignment_step = parse_alignment_step(o.alignment_step);
  } else {
    HEED_CHECK(o.alignment_layer == -1 && o.alignment_head == 0 && o.alignment_step == "predict",
               "--alignment-layer, --alignment-head and --alignment-step choose the head --guided-alignment FILE "
               "trains; give the file too");
  }
  if (!o.resume_dir.empty()) {
    HEED_CHECK(o.train.output_dir.empty() || o.train.output_dir == o.resume_dir,
               "--resume DIR continues in DIR; do not give another --output");
    HEED_CHECK(!o.train.overwrite, "--resume continues the training in {}; --overwrite would remove it", o.resume_dir);
    o.train.output_dir = o.resume_dir;
    o.train.resume = true;
  }
  if (!o.train.init_model.empty() && !o.train.resume) check_no_architecture_options(o);
  HEED_CHECK(!o.train.output_dir.empty(), "give an output directory: --output DIR (or --resume DIR)");
  HEED_CHECK(!o.train.train_source.empty() && !o.train.train_target.empty(), "give the training data: --train-src and --train-tgt");
  // The options are recorded one a line in the checkpoint and the model files: a path with a line
  // break would make both unreadable.
  for (const std::string* path : {&o.train.train_source, &o.train.train_target, &o.train.valid_source, &o.train.valid_target,
                                  &o.train.vocabulary, &o.train.source_vocabulary, &o.train.target_vocabulary,
                                  &o.train.init_model, &o.train.output_dir, &o.train.guided_alignment})
    HEED_CHECK(path->find_first_of("\r\n") == std::string::npos,
               "the path '{}' holds a line break: heed records its options one a line in the model; rename it", *path);
  o.train.effective_config = o.app->config_to_str(true, false);
  // With mpirun, rank 0 speaks for all: the others log warnings and errors only.
  if (!Communicator::world().is_root()) spdlog::set_level(spdlog::level::warn);
  spdlog::info("effective configuration:\n{}", o.train.effective_config);
  install_stop_handlers();
  const TrainSummary s = train(o.train, o.model);
  spdlog::info("median {:.0f} target tokens/s (updates after the first 100); best validation {} {:.2f}; peak memory {:.0f} MB",
               s.median_tokens_per_second, o.metric, s.best_metric, static_cast<double>(peak_resident_bytes()) / 1e6);
  // Interrupted is not finished: scripts see 130 (SIGINT) or 143 (SIGTERM), as from any program.
  if (s.interrupted) return stop_signal_number() > 0 ? 128 + stop_signal_number() : kExitError;
  return 0;
}

}  // namespace

void add_train_command(CLI::App& root, Action& chosen, const DeviceSpec& device) {
  CLI::App* cmd = root.add_subcommand("train", "Train a Transformer on a parallel corpus, with validation, checkpoints and resume");
  auto o = std::make_shared<TrainOptions>();
  o->app = cmd;
  cmd->add_option("--config", o->config_file, "Read options from a TOML/INI file whose keys are these options' names");
  TrainConfig& t = o->train;
  ModelConfig& m = o->model;

  cmd->add_option("--train-src", t.train_source, "Training source text, one sentence a line")->group("Data");
  cmd->add_option("--train-tgt", t.train_target, "Training target text, line by line parallel to the source")->group("Data");
  cmd->add_option("--valid-src", t.valid_source, "Validation source text")->group("Data");
  cmd->add_option("--valid-tgt", t.valid_target, "Validation target text")->group("Data");
  cmd->add_option("--vocab", t.vocabulary, "A joint SentencePiece model (from heed vocab)")->group("Data");
  cmd->add_option("--src-vocab", t.source_vocabulary, "The source SentencePiece model, when not joint")->group("Data");
  cmd->add_option("--tgt-vocab", t.target_vocabulary, "The target SentencePiece model, when not joint")->group("Data");
  cmd->add_option("--max-length", t.max_length, "Skip pairs with a side longer than this (pieces)")->capture_default_str()->group("Data")->check(number_in(1, kMaxPositions));
  cmd->add_option("-o,--output", t.output_dir, "Directory for best.heed, last.heed and checkpoint.state")->group("Data");
  cmd->add_option("--resume", o->resume_dir, "Continue the training whose checkpoint is in DIR")->group("Data");
  cmd->add_flag("--overwrite", t.overwrite, "Start a new training in an --output that holds another's files, removing them first (best.heed, last.heed, checkpoint.state, metrics.tsv, report.html, update-*.heed)")->group("Data");
  cmd->add_option("--init", t.init_model, "Fine-tune: start from this model's weights, architecture and vocabulary (new optimiser and schedule)")->group("Data");

  cmd->add_option("--model-dim", m.model_dim, "Width of the model")->capture_default_str()->group("Model")->check(number_in(1, kMaxModelDim));
  cmd->add_option("--heads", m.heads, "Attention heads")->capture_default_str()->group("Model")->check(number_in(1, kMaxModelDim));
  cmd->add_option("--ffn-dim", m.ffn_dim, "Width of the feed-forward layers")->capture_default_str()->group("Model")->check(number_in(1, 8 * kMaxModelDim));
  cmd->add_option("--encoder-layers", m.encoder_layers, "Encoder layers")->capture_default_str()->group("Model")->check(number_in(1, kMaxLayers));
  cmd->add_option("--decoder-layers", m.decoder_layers, "Decoder layers")->capture_default_str()->group("Model")->check(number_in(1, kMaxLayers));
  cmd->add_option("--max-positions", m.max_positions, "Longest sequence the model accepts (pieces)")->capture_default_str()->group("Model")->check(number_in(2, kMaxPositions));
  cmd->add_option("--dropout", m.dropout, "Dropout on embeddings and sublayer outputs")->capture_default_str()->group("Model")->check(number_in(0, 1, Bound::closed, Bound::open));
  cmd->add_option("--attention-dropout", m.attention_dropout, "Dropout on attention probabilities")->capture_default_str()->group("Model")->check(number_in(0, 1, Bound::closed, Bound::open));
  cmd->add_option("--attention-window", m.attention_window, "Local self-attention: keys at most W positions away (the decoder's only before; 0: full attention)")->capture_default_str()->group("Model")->check(number_in(0, kMaxPositions));
  cmd->add_option("--attention-global", m.attention_global, "With a window: the first N source positions see and are seen by all")->capture_default_str()->group("Model")->check(number_in(0, kMaxPositions));
  cmd->add_option("--activation", o->activation, "relu, gelu or swish")->capture_default_str()->group("Model");
  cmd->add_option("--attention", o->attention, "scaled-dot, dot or additive")->capture_default_str()->group("Model");
  cmd->add_option("--positions", o->positions, "sinusoidal (sines and cosines interleaved), sinusoidal-concat (all sines, then all cosines, as Marian lays them out) or learned")->capture_default_str()->group("Model");
  cmd->add_option("--scale-embeddings", m.scale_embeddings, "Multiply embeddings by √model-dim before adding the positions (true or false)")->capture_default_str()->group("Model");
  cmd->add_option("--norm", o->norm, "pre or post layer norm")->capture_default_str()->group("Model");
  cmd->add_option("--tying", o->tying, "none, target-output or all")->capture_default_str()->group("Model");

  cmd->add_option("--batch-tokens", t.batch_tokens, "Target tokens per batch")->capture_default_str()->group("Training")->check(number_in(1, 1e9));
  cmd->add_option("--lr", t.optimizer.learning_rate, "Peak learning rate")->capture_default_str()->group("Training")->check(number_in(0, 10, Bound::open));
  cmd->add_option("--warmup", t.optimizer.warmup, "Linear warm-up updates")->capture_default_str()->group("Training")->check(number_in(0, 1e9));
  cmd->add_option("--beta1", t.optimizer.beta1, "Adam β₁")->capture_default_str()->group("Training")->check(number_in(0, 1, Bound::closed, Bound::open));
  cmd->add_option("--beta2", t.optimizer.beta2, "Adam β₂")->capture_default_str()->group("Training")->check(number_in(0, 1, Bound::closed, Bound::open));
  cmd->add_option("--adam-epsilon", t.optimizer.epsilon, "Adam ε")->capture_default_str()->group("Training")->check(number_in(0, 1, Bound::open));
  cmd->add_option("--clip-norm", t.optimizer.clip_norm, "Clip gradients to this global norm (0: off)")->capture_default_str()->group("Training")->check(number_in(0, 1e6));
  cmd->add_option("--label-smoothing", t.label_smoothing, "Label smoothing ε")->capture_default_str()->group("Training")->check(number_in(0, 1, Bound::closed, Bound::open));
  cmd->add_option("--precision", o->precision, "The matmuls' precision: f32, or bf16 (operands rounded to bf16, f32 sums; weights, Adam and the loss stay f32)")->capture_default_str()->group("Training");
  cmd->add_option("--seed", t.seed, "Seed for initialisation, data order and dropout")->capture_default_str()->group("Training")->check(whole_number_up_to(UINT64_MAX));
  cmd->add_option("--guided-alignment", t.guided_alignment, "Pharaoh word links (i-j) for the training pairs, line by line (from eflomal, fast_align): teach one attention head to align")->group("Guided alignment");
  cmd->add_option("--guided-alignment-weight", t.guided_alignment_weight, "Weight of the guided alignment cross-entropy")->capture_default_str()->group("Guided alignment")->check(number_in(0, 1e3));
  cmd->add_option("--alignment-layer", o->alignment_layer, "Decoder layer of the guided head (-1: the penultimate)")->capture_default_str()->group("Guided alignment")->check(number_in(-1, kMaxLayers - 1));
  cmd->add_option("--alignment-head", o->alignment_head, "Head of that layer to guide")->capture_default_str()->group("Guided alignment")->check(number_in(0, kMaxModelDim - 1));
  cmd->add_option("--alignment-step", o->alignment_step, "Guide the attention of the step that predicts a target word (predict) or of the step that reads it (shift)")->capture_default_str()->group("Guided alignment");
  cmd->add_option("--max-epochs", t.max_epochs, "Stop after this many epochs (0: no limit)")->capture_default_str()->group("Stopping")->check(number_in(0, 1e9));
  cmd->add_option("--max-updates", t.max_updates, "Stop after this many updates (0: no limit)")->capture_default_str()->group("Stopping")->check(number_in(0, 1e12));
  cmd->add_option("--max-time", t.max_minutes, "Stop after this many minutes, validation included (0: no limit)")->capture_default_str()->group("Stopping")->check(number_in(0, 1e7));
  cmd->add_option("--patience", t.patience, "Stop after this many validations without improvement (0: never)")->capture_default_str()->group("Stopping")->check(number_in(0, 1e6));
  cmd->add_option("--validate-every", t.validate_every, "Validate every N updates (0: every epoch)")->capture_default_str()->group("Validation")->check(number_in(0, 1e12));
  cmd->add_option("--keep-last", t.keep_last, "Keep the models of the last N validations as update-U.heed, for heed average (0: none)")->capture_default_str()->group("Validation")->check(number_in(0, 1e6));
  cmd->add_option("--metric", o->metric, "Keep best.heed by bleu or cross-entropy")->capture_default_str()->group("Validation");
  cmd->add_option("--valid-bleu-sentences", t.valid_bleu_sentences, "Translate only the first N validation sentences for BLEU (0: all)")->capture_default_str()->group("Validation")->check(number_in(0, 1e9));
  cmd->add_option("--valid-beam", t.validation_beam.beam, "Beam size for validation translations (1: greedy)")->capture_default_str()->group("Validation")->check(number_in(1, 256));
  cmd->add_option("--progress-seconds", t.progress_seconds, "Seconds between progress lines")->capture_default_str()->group("Validation")->check(number_in(0, 1e6, Bound::open));
  cmd->callback([&chosen, &device, o] {
    chosen = [&device, o] {
      if (!o->config_file.empty()) apply_config_file(*o->app, o->config_file);
      if (!o->resume_dir.empty()) adopt_resumed_options(*o);
      o->train.device = device;
      return run_train(*o);
    };
  });
}

}  // namespace heed::app
