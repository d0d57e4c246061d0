#pragma once
// heed bench attention: how one self-attention layer's time and memory grow with the length, for
// full attention computed plainly (the [T × T] probabilities held) or in tiles, and for local
// attention (a window, tiled), with the log-log slopes that say linear (1) or quadratic (2).

#include <cstdint>
#include <string>
#include <vector>

#include "heed/devices/devices.h"

namespace heed {

// One row of the benchmark: a way of computing attention.
struct AttentionBenchCase {
  std::string name;    // "full-plain", "full-tiled", "window-64", ...
  bool tiled = false;
  int64_t window = 0;  // 0: full attention
};

// The rows `heed bench attention` measures: full-plain, full-tiled, window-64, window-256.
std::vector<AttentionBenchCase> attention_bench_cases();
// The case called `name`, or an error listing the names.
AttentionBenchCase attention_bench_case(const std::string& name);

// The median seconds of `repeats` forward + backward passes (after one warm-up) of one
// self-attention layer of width 256 with 4 heads over one sequence of `length` positions.
double time_attention_layer(const DeviceSpec& device, const AttentionBenchCase& c, int64_t length, int repeats);

// The least-squares slope of log y against log x (points with y ≤ 0 are left out); NaN with
// fewer than two points.
double log_log_slope(const std::vector<double>& x, const std::vector<double>& y);
// The same over the `points` largest x with y > 0 (x ascending): short lengths measure fixed costs.
double log_log_slope_of_longest(const std::vector<double>& x, const std::vector<double>& y, size_t points = 4);

// A self-contained SVG of one or more log-log panels: each panel plots every series against x,
// each series' legend with its log_log_slope_of_longest.
struct LogLogSeries {
  std::string name;
  std::vector<double> y;  // one per x; ≤ 0 where not measured
};
struct LogLogPanel {
  std::string title, y_label;
  std::vector<LogLogSeries> series;
};
std::string log_log_svg(const std::string& title, const std::string& x_label, const std::vector<double>& x,
                        const std::vector<LogLogPanel>& panels);

}  // namespace heed
