#include "heed/train/metrics_log.h"

#include <fmt/format.h>

#include <filesystem>

#include "heed/core/error.h"

namespace heed {

MetricsLog::MetricsLog(const std::string& path) : path_(path) {}

void MetricsLog::add(const TrainingRow& r) {
  write(fmt::format("train\t{}\t{}\t{:.1f}\t{:.4f}\t{:.3f}\t{:.3e}\t{:.3f}\t{:.0f}\t\t", r.update, r.epoch, r.seconds, r.loss,
                    r.perplexity, r.learning_rate, r.grad_norm, r.tokens_per_second));
}

void MetricsLog::add(const ValidationRow& r) {
  write(fmt::format("valid\t{}\t{}\t{:.1f}\t\t\t\t\t\t{:.4f}\t{:.2f}", r.update, r.epoch, r.seconds, r.cross_entropy, r.bleu));
}

void MetricsLog::write(const std::string& line) {
  if (!out_.is_open()) {  // at the first row: a run that fails before it leaves no file behind
    std::error_code ec;
    const bool fresh = !std::filesystem::exists(path_, ec) || std::filesystem::file_size(path_, ec) == 0;
    out_.open(path_, std::ios::app | std::ios::binary);
    HEED_CHECK(out_.good(), "cannot write {}", path_);
    if (fresh)
      out_ << "kind\tupdate\tepoch\tseconds\tloss\tperplexity\tlearning_rate\tgrad_norm\ttokens_per_second\t"
              "valid_cross_entropy\tvalid_bleu\n";
  }
  out_ << line << '\n';
  out_.flush();
  HEED_CHECK(out_.good(), "cannot write {} (disk full?)", path_);
}

}  // namespace heed
