#include "heed/align/writers.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "heed/text/html.h"

namespace heed {
namespace {

// Row-normalised attention: each target word's distribution over the source words.
float normalized(const PairAlignment& a, int32_t t, int32_t s) {
  float sum = 0.0f;
  for (int32_t k = 0; k < a.words.cols; ++k) sum += a.words.at(t, k);
  return sum > 0.0f ? a.words.at(t, s) / sum : 0.0f;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += fmt::format("\\u{:04x}", byte);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string soft_line(const PairAlignment& a) {
  std::string out;
  for (int32_t t = 0; t < a.words.rows; ++t) {
    if (t > 0) out += ' ';
    for (int32_t s = 0; s < a.words.cols; ++s) out += fmt::format("{}{:.4f}", s ? "," : "", normalized(a, t, s));
  }
  return out;
}

std::string json_line(const PairAlignment& a) {
  const auto words = [](const std::vector<std::string>& list) {
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) out += (i ? "," : "") + json_string(list[i]);
    return out + "]";
  };
  std::string links = "[";
  for (size_t i = 0; i < a.links.size(); ++i) links += fmt::format("{}[{},{}]", i ? "," : "", a.links[i].first, a.links[i].second);
  links += "]";
  std::string matrix = "[";
  for (int32_t t = 0; t < a.words.rows; ++t) {
    matrix += t ? ",[" : "[";
    for (int32_t s = 0; s < a.words.cols; ++s) matrix += fmt::format("{}{:.4f}", s ? "," : "", normalized(a, t, s));
    matrix += "]";
  }
  matrix += "]";
  return fmt::format("{{\"source\":{},\"target\":{},\"links\":{},\"attention\":{}}}", words(a.source), words(a.target), links,
                     matrix);
}

std::string html_begin(const std::string& title) {
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
h2 {{ font-size: 1em; font-weight: normal; color: #666; margin-top: 2.5em; }}
table {{ border-collapse: collapse; }}
td {{ width: 1.9em; height: 1.9em; text-align: center; font-size: 0.8em; border: 1px solid #eee; }}
td.link {{ outline: 2px solid #c0392b; outline-offset: -3px; font-weight: bold; }}
th {{ font-weight: normal; padding: 0 0.4em; white-space: nowrap; }}
th.source {{ writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; vertical-align: bottom; padding: 0.4em 0; }}
th.target {{ text-align: right; }}
p.legend {{ color: #666; }}
</style>
</head>
<body>
<h1>{}</h1>
<p class="legend">Rows: target words; columns: source words. Shade: the share of a target word's attention on each
source word. Boxed cells: the hard links (Pharaoh i-j, source first).</p>
)",
                     html_escape(title), html_escape(title));
}

std::string html_pair(const PairAlignment& a, int64_t line_number) {
  const std::set<Link> links(a.links.begin(), a.links.end());
  std::string out = fmt::format("<h2>line {}</h2>\n<table>\n<tr><th></th>", line_number);
  for (const std::string& word : a.source) out += fmt::format("<th class=\"source\">{}</th>", html_escape(word));
  out += "</tr>\n";
  for (int32_t t = 0; t < a.words.rows; ++t) {
    out += fmt::format("<tr><th class=\"target\">{}</th>", html_escape(a.target[static_cast<size_t>(t)]));
    for (int32_t s = 0; s < a.words.cols; ++s) {
      const float p = normalized(a, t, s);
      const int shade = static_cast<int>(std::clamp(255.0f * (1.0f - p), 0.0f, 255.0f));
      out += fmt::format("<td{} style=\"background:rgb({},{},255);color:{}\" title=\"{}-{}: {:.3f}\">{}</td>",
                         links.count({s, t}) ? " class=\"link\"" : "", shade, shade, p > 0.5f ? "#fff" : "#222", s, t, p,
                         p >= 0.1f ? fmt::format("{:.0f}", 100.0f * p) : "");
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string html_end() { return "</body>\n</html>\n"; }

}  // namespace heed
