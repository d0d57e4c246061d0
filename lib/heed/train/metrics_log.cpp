#include "heed/train/metrics_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "heed/core/error.h"
#include "heed/core/file_io.h"

namespace heed {

MetricsLog::MetricsLog(const std::string& path, std::optional<int64_t> resumed_at_update) : path_(path) {
  std::error_code ec;
  if (!resumed_at_update || !std::filesystem::exists(path_, ec)) return;
  const std::string text = read_file(path_);
  std::string kept;
  for (size_t start = 0; start < text.size();) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // a line cut short by the kill
    const std::string_view line(text.data() + start, end - start);
    // The second cell is the update (the header's is "update").
    const size_t tab = line.find('\t');
    int64_t update = 0;
    const char* first = tab == std::string_view::npos ? line.data() + line.size() : line.data() + tab + 1;
    const auto [after, error] = std::from_chars(first, line.data() + line.size(), update);
    if (error != std::errc() || update <= *resumed_at_update) kept.append(line).push_back('\n');
    start = end + 1;
  }
  if (kept.size() != text.size()) write_file_atomically(path_, kept);
}

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
    HEED_CHECK(out_.good(), "cannot write {}: {}", path_, std::strerror(errno));
    if (fresh)
      out_ << "kind\tupdate\tepoch\tseconds\tloss\tperplexity\tlearning_rate\tgrad_norm\ttokens_per_second\t"
              "valid_cross_entropy\tvalid_bleu\n";
  }
  out_ << line << '\n';
  out_.flush();
  HEED_CHECK(out_.good(), "cannot write {}: {}", path_, std::strerror(errno));
}

}  // namespace heed
