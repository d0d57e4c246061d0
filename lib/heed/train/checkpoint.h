#pragma once
// A training checkpoint: everything needed to continue exactly where training stopped, in one
// atomically written file (so that the model and its optimizer state can never disagree):
// the model file, Adam's moments, and the position in the schedule and the data.

#include <cstdint>
#include <string>

#include "heed/model/model_file.h"
#include "heed/train/optimizer.h"

namespace heed {

struct TrainingProgress {
  int64_t updates = 0;
  int64_t epoch = 0;          // the epoch in progress, from 0
  int64_t next_batch = 0;     // the next batch of that epoch's plan
  double elapsed_seconds = 0.0;
  int64_t validations = 0;
  int64_t validations_without_improvement = 0;
  double best_metric = 0.0;   // BLEU (higher is better) or cross-entropy (lower is better)
  double best_cross_entropy = 0.0;
  bool has_best = false;
  int64_t processes = 1;      // that trained together (mpirun -np N): their batch split, resumed as it was
};

// `model` is read on the host: a model trained on a device is saved from a host copy.
void save_checkpoint(const std::string& path, const Transformer& model, const ModelExtras& extras, Adam& adam,
                     const TrainingProgress& progress);

struct LoadedCheckpoint {
  LoadedModel model;
  Tensor first_moment, second_moment;
  TrainingProgress progress;
};

LoadedCheckpoint load_checkpoint(const std::string& path);
// The options the checkpoint's training ran with ("key=value" lines, as `heed train` stores them).
std::string checkpoint_training_options(const std::string& path);

}  // namespace heed
