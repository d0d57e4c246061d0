#pragma once
// Word links in the Pharaoh format every aligner writes: "i-j" links source word i to target
// word j; gold files also mark links that are only possible, "ipj".

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heed {

using Link = std::pair<int32_t, int32_t>;  // (source word, target word), 0-based

struct GoldLinks {
  std::vector<Link> sure;
  std::vector<Link> possible;  // links marked possible only (sure ones count as possible too)
};

// How a file writes its links, when not as heed does.
struct LinkReading {
  bool one_based = false;   // words are counted from 1
  bool swap_sides = false;  // target-source rather than source-target
};

// Parses one line of "i-j" links (and, with `allow_possible`, "ipj"); `what` names file and line
// in errors ("gold.talp:12").
GoldLinks parse_links(std::string_view line, const std::string& what, bool allow_possible, const LinkReading& reading = {});

}  // namespace heed
