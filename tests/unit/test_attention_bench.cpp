#include <doctest/doctest.h>

#include <cmath>

#include "heed/bench/attention_bench.h"
#include "heed/core/error.h"

using namespace heed;

TEST_CASE("log-log slopes: 1 for linear growth, 2 for quadratic, over the longest points only") {
  const std::vector<double> x = {128, 256, 512, 1024, 2048};
  std::vector<double> linear, quadratic, flat_then_linear;
  for (double v : x) {
    linear.push_back(3.0 * v);
    quadratic.push_back(0.5 * v * v);
    flat_then_linear.push_back(v < 500 ? 1000.0 : v);
  }
  CHECK(log_log_slope(x, linear) == doctest::Approx(1.0));
  CHECK(log_log_slope(x, quadratic) == doctest::Approx(2.0));
  CHECK(log_log_slope_of_longest(x, flat_then_linear, 3) == doctest::Approx(1.0));
  CHECK(log_log_slope(x, flat_then_linear) < 0.5);
  CHECK(std::isnan(log_log_slope({1.0}, {2.0})));
  // Unmeasured points (≤ 0) are left out.
  CHECK(log_log_slope_of_longest({1, 2, 4, 8}, {1, 2, 4, -1}) == doctest::Approx(1.0));
}

TEST_CASE("the log-log plot names every series with its slope and draws a line per series") {
  const std::string svg = log_log_svg("title", "length", {128, 256, 512},
                                      {{"time", "ms", {{"full", {1, 4, 16}}, {"window", {1, 2, 4}}}}});
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("full (slope 2.00, longest 4)") != std::string::npos);
  CHECK(svg.find("window (slope 1.00, longest 4)") != std::string::npos);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  CHECK(lines == 2);
  CHECK_THROWS_AS(attention_bench_case("no-such-case"), Error);
  CHECK(attention_bench_case("window-64").window == 64);
}
