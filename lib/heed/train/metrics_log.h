#pragma once
// DIR/metrics.tsv: training's curves as a table, one row per progress line ("train") and per
// validation ("valid"), appended and flushed as they happen (a resumed run appends to the same
// file), for plotting and for comparing runs:
//   kind update epoch seconds loss perplexity learning_rate grad_norm tokens_per_second
//   valid_cross_entropy valid_bleu
// Cells that do not apply to a row are empty.

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

namespace heed {

struct TrainingRow {
  int64_t update = 0, epoch = 0;
  double seconds = 0.0, loss = 0.0, perplexity = 0.0, learning_rate = 0.0, grad_norm = 0.0, tokens_per_second = 0.0;
};

struct ValidationRow {
  int64_t update = 0, epoch = 0;
  double seconds = 0.0, cross_entropy = 0.0, bleu = 0.0;
};

class MetricsLog {
 public:
  // The file is made (or appended to) at the first row. A resumed training passes the update of
  // its checkpoint: rows after it (logged before a kill -9, and about to be logged again) and a
  // half-written last line are removed first, so that no update appears twice.
  explicit MetricsLog(const std::string& path, std::optional<int64_t> resumed_at_update = std::nullopt);
  void add(const TrainingRow& row);
  void add(const ValidationRow& row);

 private:
  void write(const std::string& line);
  std::string path_;
  std::ofstream out_;
};

}  // namespace heed
