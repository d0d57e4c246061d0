#pragma once
// DIR/metrics.tsv: training's curves as a table, one row per progress line ("train") and per
// validation ("valid"), appended and flushed as they happen (a resumed run appends to the same
// file), for plotting and for comparing runs:
//   kind update epoch seconds loss perplexity learning_rate grad_norm tokens_per_second
//   valid_cross_entropy valid_bleu
// Cells that do not apply to a row are empty.

#include <cstdint>
#include <fstream>
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
  explicit MetricsLog(const std::string& path);  // the file is made (or appended to) at the first row
  void add(const TrainingRow& row);
  void add(const ValidationRow& row);

 private:
  void write(const std::string& line);
  std::string path_;
  std::ofstream out_;
};

}  // namespace heed
