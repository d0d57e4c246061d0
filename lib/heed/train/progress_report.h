#pragma once
// Training's progress lines on stderr and "train" rows of metrics.tsv: each covers the updates
// since the one before (their mean loss and perplexity, the guided alignment term, tokens/s), and
// the whole run's figures are kept for its summary.

#include <chrono>
#include <cstdint>
#include <vector>

#include "heed/backend/backend.h"
#include "heed/train/metrics_log.h"
#include "heed/train/optimizer.h"

namespace heed {

// Where the training stands when a line is written.
struct ProgressPosition {
  int64_t epoch = 0;             // from 1
  double epoch_done = 0.0;       // the share of this epoch's batches done, 0 to 1
  int64_t update = 0;
  double elapsed_seconds = 0.0;
  double epoch_end_seconds = 0.0;  // until this epoch's last batch, at the run's pace so far
  double eta_seconds = -1.0;     // until a limit (--max-time, --max-updates, --max-epochs) stops it; < 0: none set
};

class ProgressReport {
 public:
  // `guided_alignment_weight`: the weight of the guided term in the loss (the lines report the
  // term without it).
  explicit ProgressReport(float guided_alignment_weight) : guided_weight_(guided_alignment_weight) {}

  // One update `update`, its loss sums over the whole batch (every process's), the optimiser's
  // step, and the seconds it took.
  void add(int64_t update, const LossSums& sums, const UpdateInfo& info, double seconds);
  // Whether a line is due: `every` seconds since the last one, and an update since.
  bool due(double every) const;
  // Writes the line and the metrics row (`metrics` null: a process that does not log), then starts
  // the next window.
  void write(MetricsLog* metrics, const ProgressPosition& at);

  double first_loss() const { return first_loss_ < 0 ? 0.0 : first_loss_; }  // per target token
  double last_loss() const { return last_loss_; }
  // Target tokens per second, the median over the updates after the first 100 (0 before).
  double median_tokens_per_second() const;

 private:
  using Clock = std::chrono::steady_clock;
  float guided_weight_;
  Clock::time_point window_start_ = Clock::now();
  double loss_ = 0.0, nll_ = 0.0, alignment_ = 0.0;
  int64_t tokens_ = 0, updates_ = 0, aligned_rows_ = 0;
  double grad_norm_ = 0.0;
  float learning_rate_ = 0.0f;
  double first_loss_ = -1.0, last_loss_ = 0.0;
  std::vector<double> tokens_per_second_;  // per update, for the median
};

// "1h05m" or "4m09s".
std::string duration_text(double seconds);

}  // namespace heed
