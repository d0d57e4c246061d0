#include "heed/data/links.h"

#include <charconv>

#include "heed/core/error.h"

namespace heed {
namespace {

int32_t parse_index(std::string_view text, const std::string& what, std::string_view token) {
  int32_t value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  HEED_CHECK(ec == std::errc() && end == text.data() + text.size() && value >= 0,
             "{}: '{}' is not a link (expected i-j with word indices, e.g. 0-0 3-2)", what, printable(token));
  return value;
}

}  // namespace

GoldLinks parse_links(std::string_view line, const std::string& what, bool allow_possible, const LinkReading& reading) {
  GoldLinks links;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t end = i;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
    if (end == i) break;
    const std::string_view token = line.substr(i, end - i);
    i = end;
    const size_t dash = token.find('-');
    const size_t p = allow_possible ? token.find('p') : std::string_view::npos;
    const size_t at = dash != std::string_view::npos ? dash : p;
    HEED_CHECK(at != std::string_view::npos && at > 0,
               "{}: '{}' is not a link (expected i-j{})", what, printable(token), allow_possible ? " or ipj" : "");
    int32_t source = parse_index(token.substr(0, at), what, token);
    int32_t target = parse_index(token.substr(at + 1), what, token);
    if (reading.one_based) {
      HEED_CHECK(source >= 1 && target >= 1, "{}: '{}' has a 0 index, but --one-based counts words from 1", what,
                 printable(token));
      --source;
      --target;
    }
    if (reading.swap_sides) std::swap(source, target);
    (at == dash ? links.sure : links.possible).emplace_back(source, target);
  }
  return links;
}

}  // namespace heed
