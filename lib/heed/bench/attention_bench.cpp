#include "heed/bench/attention_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "heed/devices/devices.h"
#include "heed/core/error.h"
#include "heed/core/rng.h"
#include "heed/model/attention.h"
#include "heed/text/html.h"

namespace heed {

std::vector<AttentionBenchCase> attention_bench_cases() {
  return {{"full-plain", false, 0}, {"full-tiled", true, 0}, {"window-64", true, 64}, {"window-256", true, 256}};
}

AttentionBenchCase attention_bench_case(const std::string& name) {
  std::string names;
  for (const AttentionBenchCase& c : attention_bench_cases()) {
    if (c.name == name) return c;
    names += (names.empty() ? "" : ", ") + c.name;
  }
  fail("bench attention: no case '{}' (the cases: {})", name, names);
}

double time_attention_layer(const DeviceSpec& device, const AttentionBenchCase& c, int64_t length, int repeats) {
  auto be = make_backend(device);
  ModelConfig config;
  config.model_dim = 256;
  config.heads = 4;
  config.attention_dropout = 0.0f;
  ParameterSet params;
  AttentionScratch scratch;
  MultiHeadAttention layer(params, "bench", config, scratch);
  params.allocate();
  params.initialize(1);
  params.place_on(*be);
  params.zero_grads(*be);

  Rng rng(2);
  const Shape shape{1, length, config.model_dim};
  Tensor host = Tensor::empty(shape);
  for (int64_t i = 0; i < host.numel(); ++i) host.f32()[i] = rng.uniform(-1.0f, 1.0f);
  const Tensor x = be->allocate(shape), out = be->allocate(shape), dx = be->allocate(shape), d_out = be->allocate(shape);
  be->upload(host, x);
  be->upload(host, d_out);
  // Encoder self-attention: with a window, each position sees the W before and the W after it.
  const VisibleKeys keys{.window = c.window};
  const RunMode mode{.training = true, .seed = 1, .attention = c.tiled ? AttentionKernel::tiled : AttentionKernel::plain};
  std::vector<double> seconds;
  for (int i = 0; i <= repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    layer.forward(*be, x, x, keys, out, mode);
    layer.backward(*be, d_out, dx, Accumulate::no, dx, Accumulate::yes);
    be->download(dx, host);  // waits for a device to finish
    if (i > 0) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

double log_log_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!(y[i] > 0.0) || !(x[i] > 0.0)) continue;
    const double lx = std::log(x[i]), ly = std::log(y[i]);
    n += 1;
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  if (n < 2) return NAN;
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

double log_log_slope_of_longest(const std::vector<double>& x, const std::vector<double>& y, size_t points) {
  std::vector<double> lx, ly;
  for (size_t j = std::min(x.size(), y.size()); j-- > 0 && lx.size() < points;)
    if (y[j] > 0.0) {
      lx.push_back(x[j]);
      ly.push_back(y[j]);
    }
  return log_log_slope(lx, ly);
}

namespace {

constexpr int kPanelWidth = 470, kPanelHeight = 380, kLeft = 70, kRight = 20, kTop = 36, kBottom = 48;
constexpr const char* kColours[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

std::string panel_svg(const LogLogPanel& panel, const std::string& x_label, const std::vector<double>& x, int offset_x) {
  double y_min = INFINITY, y_max = 0.0;
  for (const LogLogSeries& s : panel.series)
    for (double v : s.y)
      if (v > 0.0) {
        y_min = std::min(y_min, v);
        y_max = std::max(y_max, v);
      }
  const double x_lo = std::log10(x.front()), x_hi = std::log10(x.back());
  const double y_lo = std::floor(std::log10(y_max > 0.0 ? y_min : 1.0)), y_hi = std::ceil(std::log10(y_max > 0.0 ? y_max : 10.0));
  const double plot_w = kPanelWidth - kLeft - kRight, plot_h = kPanelHeight - kTop - kBottom;
  const auto sx = [&](double v) { return offset_x + kLeft + (std::log10(v) - x_lo) / std::max(1e-9, x_hi - x_lo) * plot_w; };
  const auto sy = [&](double v) { return kTop + plot_h - (std::log10(v) - y_lo) / std::max(1e-9, y_hi - y_lo) * plot_h; };

  std::string svg = fmt::format(R"(<text x="{}" y="22" font-size="14" font-weight="bold">{}</text>)", offset_x + kLeft,
                                html_escape(panel.title));
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>)", offset_x + kLeft, kTop,
                     plot_w, plot_h);
  for (double v : x) {  // a tick per measured length
    svg += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#eee"/>)", sx(v), kTop, kTop + plot_h);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="10" text-anchor="middle">{}</text>)", sx(v),
                       kTop + plot_h + 14, static_cast<int64_t>(v));
  }
  for (double e = y_lo; e <= y_hi; e += 1.0) {  // a tick per decade
    const double v = std::pow(10.0, e);
    svg += fmt::format(R"(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#ddd"/>)", offset_x + kLeft,
                       offset_x + kLeft + plot_w, sy(v));
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="10" text-anchor="end">{:g}</text>)", offset_x + kLeft - 4,
                       sy(v) + 3, v);
  }
  svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", offset_x + kLeft + plot_w / 2,
                     kPanelHeight - 12, html_escape(x_label));
  svg += fmt::format(R"svg(<text x="{0}" y="{1:.1f}" font-size="11" text-anchor="middle" transform="rotate(-90 {0} {1:.1f})">{2}</text>)svg",
                     offset_x + 16, kTop + plot_h / 2, html_escape(panel.y_label));
  for (size_t i = 0; i < panel.series.size(); ++i) {
    const LogLogSeries& s = panel.series[i];
    const char* colour = kColours[i % std::size(kColours)];
    std::string points;
    for (size_t j = 0; j < x.size() && j < s.y.size(); ++j)
      if (s.y[j] > 0.0) points += fmt::format("{:.1f},{:.1f} ", sx(x[j]), sy(s.y[j]));
    svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>)", colour, points);
    for (size_t j = 0; j < x.size() && j < s.y.size(); ++j)
      if (s.y[j] > 0.0) svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>)", sx(x[j]), sy(s.y[j]), colour);
    const double slope = log_log_slope_of_longest(x, s.y);
    const std::string legend = std::isnan(slope) ? s.name : fmt::format("{} (slope {:.2f}, longest 4)", s.name, slope);
    svg += fmt::format(R"(<rect x="{}" y="{}" width="12" height="3" fill="{}"/>)", offset_x + kLeft + 10, kTop + 12 + 16 * i, colour);
    svg += fmt::format(R"(<text x="{}" y="{}" font-size="11">{}</text>)", offset_x + kLeft + 28, kTop + 17 + 16 * i,
                       html_escape(legend));
  }
  return svg;
}

}  // namespace

std::string log_log_svg(const std::string& title, const std::string& x_label, const std::vector<double>& x,
                        const std::vector<LogLogPanel>& panels) {
  HEED_CHECK(!x.empty(), "log_log_svg: no x values");
  const int width = kPanelWidth * static_cast<int>(panels.size()), height = kPanelHeight + 30;
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" font-family="sans-serif"><rect width="{0}" height="{1}" fill="#fff"/>)",
      width, height);
  svg += R"svg(<g transform="translate(0,30)">)svg";
  for (size_t i = 0; i < panels.size(); ++i) svg += panel_svg(panels[i], x_label, x, kPanelWidth * static_cast<int>(i));
  svg += "</g>";
  svg += fmt::format(R"(<text x="{}" y="20" font-size="15" font-weight="bold">{}</text>)", kLeft, html_escape(title));
  return svg + "</svg>\n";
}

}  // namespace heed
