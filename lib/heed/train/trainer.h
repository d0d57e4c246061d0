#pragma once
// The training loop: batches, updates, progress on stderr, validation, checkpoints, early
// stopping, resume and clean interruption.

#include <cstdint>
#include <string>

#include "heed/data/batcher.h"
#include "heed/decode/beam_search.h"
#include "heed/devices/devices.h"
#include "heed/train/checkpoint.h"
#include "heed/train/output_directory.h"

namespace heed {

enum class ValidationMetric : uint8_t { bleu, cross_entropy };

struct TrainConfig {
  std::string train_source, train_target;
  std::string valid_source, valid_target;
  std::string vocabulary;                          // joint, or:
  std::string source_vocabulary, target_vocabulary;
  std::string output_dir;
  bool resume = false;                             // continue from output_dir's checkpoint
  bool overwrite = false;                          // a new training where another's files are: remove them first
  // Fine-tuning: start from this model file's architecture, weights and vocabulary (the dropout
  // rates are this run's), with a fresh optimiser and schedule. Empty: a new model.
  std::string init_model;
  int64_t max_length = 100;                        // pieces per side; longer pairs are skipped
  int64_t batch_tokens = 4096;
  OptimizerOptions optimizer;
  float label_smoothing = 0.1f;
  // The matmuls' precision (Backend::set_matmul_precision): bf16 rounds their operands, forward
  // and backward; weights, gradients, Adam's moments, the loss and every other op stay f32.
  Precision precision = Precision::f32;
  // Guided alignment (model/guided_alignment.h): Pharaoh word links for the training pairs, the
  // weight of their cross-entropy term, and the head they train: a decoder layer (-1: the
  // penultimate, as Garg et al. 2019 choose, the last being busy predicting), a head and a step,
  // bounded by the model trained (the new one, or the one --init starts from).
  std::string guided_alignment;
  float guided_alignment_weight = 0.1f;
  int32_t alignment_layer = -1;
  int32_t alignment_head = 0;
  AlignmentStep alignment_step = AlignmentStep::predict;
  int64_t max_epochs = 40;                         // 0: no limit
  int64_t max_updates = 0;                         // 0: no limit
  double max_minutes = 0.0;                        // wall time, validation included; 0: no limit
  int64_t validate_every = 0;                      // updates; 0: at the end of every epoch
  int64_t keep_last = 0;                           // keep the models of the last N validations (update-U.heed)
  int64_t patience = 5;                            // validations without improvement; 0: never stop early
  ValidationMetric metric = ValidationMetric::bleu;
  int64_t valid_bleu_sentences = 0;                // decode only the first N for BLEU; 0: all
  int64_t decode_batch_sentences = 64;
  BeamOptions validation_beam;                     // BLEU is measured on beam-search translations
  uint64_t seed = 1;
  DeviceSpec device;                               // where it computes (`heed --device`)
  double progress_seconds = 10.0;
  std::string effective_config;                    // stored in the model file's metadata
};

struct TrainSummary {
  int64_t updates = 0;
  int64_t epochs_completed = 0;
  double elapsed_seconds = 0.0;
  double best_metric = 0.0;
  double median_tokens_per_second = 0.0;  // target tokens, updates after the first 100
  double first_loss = 0.0;                // per target token, of this run's first update
  double last_loss = 0.0;                 // per target token, of this run's last update
  std::string stop_reason;
  bool interrupted = false;               // stopped by a signal (or request_stop), not a criterion
};


// `model_config` is used for a new model (its vocabulary sizes are set from the vocabularies);
// when resuming, the checkpoint's config wins; with init_model, that model's (but for dropout).
// It computes on `be`, or without one on a backend made for config.device.
TrainSummary train(const TrainConfig& config, const ModelConfig& model_config, std::unique_ptr<Backend> be = nullptr);

}  // namespace heed
