#pragma once
// The formats `heed align` writes, one pair at a time:
//   pharaoh  "0-0 1-2 2-1" (word_links.h)
//   soft     each target word's attention over the source words, normalised, comma-separated;
//            target words separated by spaces (Marian's convention)
//   json     one object per line: the words of both sides, the links, the word matrix
//   html     one self-contained page (no script, no network): a heat-map per pair with the
//            words on its axes and the hard links marked, for a person to read in a browser

#include <string>

#include "heed/align/aligner.h"

namespace heed {

std::string soft_line(const PairAlignment& a);
std::string json_line(const PairAlignment& a);

std::string html_begin(const std::string& title);
std::string html_pair(const PairAlignment& a, int64_t line_number);
std::string html_end();

}  // namespace heed
