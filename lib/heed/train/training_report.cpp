#include "heed/train/training_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "heed/text/html.h"

namespace heed {
namespace {

struct Point {
  double x, y;
};

struct Series {
  std::vector<Point> by_update, by_minutes;
};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

bool number(std::string_view cell, double& value) {
  if (cell.empty()) return false;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return ec == std::errc() && end == cell.data() + cell.size() && std::isfinite(value);
}

// One chart: a polyline through the points, axes with their ranges, and labels.
std::string chart(const std::vector<Point>& points, const std::string& title, const std::string& x_label,
                  const std::string& colour) {
  constexpr double kWidth = 460, kHeight = 280, kLeft = 56, kRight = 16, kTop = 30, kBottom = 44;
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img">)", kWidth, kHeight);
  svg += fmt::format(R"(<text x="{}" y="18" font-size="14" font-weight="bold">{}</text>)", kLeft, html_escape(title));
  if (points.empty()) {
    svg += fmt::format(R"(<text x="{}" y="{}" font-size="12" fill="#888">no data yet</text></svg>)", kLeft, kHeight / 2);
    return svg;
  }
  double x0 = points[0].x, x1 = x0, y0 = points[0].y, y1 = y0;
  for (const Point& p : points) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto sx = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * plot_w; };
  const auto sy = [&](double y) { return kTop + (1.0 - (y - y0) / (y1 - y0)) * plot_h; };
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#bbb"/>)", kLeft, kTop, plot_w, plot_h);
  for (int i = 0; i <= 4; ++i) {  // five ticks on each axis
    const double fx = x0 + (x1 - x0) * i / 4, fy = y0 + (y1 - y0) * i / 4;
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="middle">{:.4g}</text>)", sx(fx),
                       kTop + plot_h + 14, fx);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="end">{:.4g}</text>)", kLeft - 4,
                       sy(fy) + 3, fy);
    svg += fmt::format(R"(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#eee"/>)", kLeft, kLeft + plot_w, sy(fy));
  }
  svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", kLeft + plot_w / 2,
                     kHeight - 8, html_escape(x_label));
  std::string line;
  for (const Point& p : points) line += fmt::format("{:.1f},{:.1f} ", sx(p.x), sy(p.y));
  svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.8" points="{}"/>)", colour, line);
  if (points.size() <= 200)
    for (const Point& p : points) svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.2" fill="{}"/>)", sx(p.x), sy(p.y), colour);
  return svg + "</svg>";
}

}  // namespace

std::string training_report_html(std::string_view metrics, const std::string& title) {
  Series loss, bleu, cross_entropy;
  for (std::string_view row : split(metrics, '\n')) {
    const std::vector<std::string_view> cells = split(row, '\t');
    if (cells.size() < 11) continue;
    double update = 0, seconds = 0, value = 0;
    if (!number(cells[1], update) || !number(cells[3], seconds)) continue;  // the header, or a damaged row
    const auto add = [&](Series& s, std::string_view cell) {
      if (!number(cell, value)) return;
      s.by_update.push_back({update, value});
      s.by_minutes.push_back({seconds / 60.0, value});
    };
    if (cells[0] == "train") add(loss, cells[4]);
    if (cells[0] == "valid") {
      add(bleu, cells[10]);
      add(cross_entropy, cells[9]);
    }
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>heed training: " + html_escape(title) +
                     "</title>\n<style>body{font-family:sans-serif;margin:16px;color:#222}"
                     "div.charts{display:flex;flex-wrap:wrap;gap:12px}svg{background:#fff;border:1px solid #ddd}</style></head>\n"
                     "<body><h1>heed training: " + html_escape(title) + "</h1>\n";
  html += fmt::format("<p>{} progress rows, {} validations{}.</p>\n", loss.by_update.size(), bleu.by_update.size(),
                      bleu.by_update.empty() ? ""
                                             : fmt::format("; best BLEU {:.2f}, last {:.2f}",
                                                           std::max_element(bleu.by_update.begin(), bleu.by_update.end(),
                                                                            [](const Point& a, const Point& b) { return a.y < b.y; })->y,
                                                           bleu.by_update.back().y));
  html += "<div class=\"charts\">\n";
  html += chart(loss.by_update, "training loss", "updates", "#1f77b4") + "\n";
  html += chart(loss.by_minutes, "training loss", "minutes", "#1f77b4") + "\n";
  html += chart(bleu.by_update, "validation BLEU", "updates", "#d62728") + "\n";
  html += chart(bleu.by_minutes, "validation BLEU", "minutes", "#d62728") + "\n";
  html += chart(cross_entropy.by_update, "validation cross-entropy (nats/token)", "updates", "#2ca02c") + "\n";
  html += "</div>\n<p>From metrics.tsv beside this page, rewritten at each validation.</p></body></html>\n";
  return html;
}

}  // namespace heed
