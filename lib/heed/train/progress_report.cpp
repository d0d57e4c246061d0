#include "heed/train/progress_report.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace heed {

std::string duration_text(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  return s >= 3600 ? fmt::format("{}h{:02}m", s / 3600, s / 60 % 60) : fmt::format("{}m{:02}s", s / 60, s % 60);
}

void ProgressReport::add(int64_t update, const LossSums& sums, const UpdateInfo& info, double seconds) {
  const double loss = sums.loss / static_cast<double>(std::max<int64_t>(sums.tokens, 1));
  if (first_loss_ < 0) first_loss_ = loss;
  last_loss_ = loss;
  loss_ += sums.loss;
  nll_ += sums.nll;
  alignment_ += sums.alignment;
  aligned_rows_ += sums.aligned_rows;
  tokens_ += sums.tokens;
  updates_ += 1;
  grad_norm_ = info.grad_norm;
  learning_rate_ = info.learning_rate;
  if (update > 100) tokens_per_second_.push_back(static_cast<double>(sums.tokens) / seconds);
}

bool ProgressReport::due(double every) const {
  return updates_ > 0 && std::chrono::duration<double>(Clock::now() - window_start_).count() >= every;
}

void ProgressReport::write(MetricsLog* metrics, const ProgressPosition& at) {
  const double window = std::chrono::duration<double>(Clock::now() - window_start_).count();
  if (metrics != nullptr) {
    const double tokens = static_cast<double>(std::max<int64_t>(tokens_, 1));
    // Guided alignment: the head's cross-entropy per aligned target piece, without the weight.
    const std::string alignment =
        aligned_rows_ > 0 && guided_weight_ > 0
            ? fmt::format(" | align-ce {:.3f}", alignment_ / guided_weight_ / static_cast<double>(aligned_rows_))
            : "";
    metrics->add(TrainingRow{.update = at.update, .epoch = at.epoch, .seconds = at.elapsed_seconds,
                             .loss = loss_ / tokens, .perplexity = std::exp(nll_ / tokens),
                             .learning_rate = learning_rate_, .grad_norm = grad_norm_,
                             .tokens_per_second = tokens / window});
    spdlog::info("epoch {} ({:.1f}%, ends in {}) update {} | loss {:.3f} | ppl {:.2f}{} | lr {:.2e} | grad-norm {:.2f} | "
                 "{:.0f} tok/s | {} elapsed | ETA {}",
                 at.epoch, 100.0 * at.epoch_done, duration_text(at.epoch_end_seconds), at.update, loss_ / tokens,
                 std::exp(nll_ / tokens), alignment, learning_rate_, grad_norm_, tokens / window,
                 duration_text(at.elapsed_seconds), at.eta_seconds < 0 ? "none (no limit set)" : duration_text(at.eta_seconds));
  }
  window_start_ = Clock::now();
  loss_ = nll_ = alignment_ = 0.0;
  tokens_ = updates_ = aligned_rows_ = 0;
}

double ProgressReport::median_tokens_per_second() const {
  if (tokens_per_second_.empty()) return 0.0;
  std::vector<double> sorted = tokens_per_second_;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2), sorted.end());
  return sorted[sorted.size() / 2];
}

}  // namespace heed
