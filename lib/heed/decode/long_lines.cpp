#include "heed/decode/long_lines.h"

#include <algorithm>
#include <string>

namespace heed {
namespace {

// Cuts `pieces` into the fewest runs of at most `most` pieces, of about equal length, each ending
// before a word start where one lies within a quarter of the run's length before its end, so
// that words stay whole and no run is a stub.
void cut_at_word_starts(const std::vector<int32_t>& pieces, const Vocabulary& vocabulary, size_t most,
                        std::vector<std::vector<int32_t>>& parts) {
  size_t start = 0;
  while (start < pieces.size()) {
    const size_t left = pieces.size() - start;
    const size_t runs = (left + most - 1) / most;
    const size_t length = (left + runs - 1) / runs;  // <= most
    size_t end = start + length;
    if (end < pieces.size()) {
      for (size_t k = end; k > start + length - length / 4 && k > start + 1; --k)
        if (vocabulary.piece(pieces[k]).starts_with("\u2581")) {
          end = k;
          break;
        }
    }
    parts.emplace_back(pieces.begin() + static_cast<long>(start), pieces.begin() + static_cast<long>(end));
    start = end;
  }
}

}  // namespace

std::vector<std::vector<int32_t>> split_long_line(std::string_view text, const Vocabulary& vocabulary, int64_t limit,
                                                  SentenceLanguage language, int64_t part) {
  const size_t most = static_cast<size_t>(std::max<int64_t>(std::min(limit, part > 0 ? part : limit), 1));
  // One sentence a part, as the model was trained: packing several into one part lets the model
  // end after the first of them.
  std::vector<std::vector<int32_t>> parts;
  for (std::string_view sentence : split_sentences(text, language)) {
    std::vector<int32_t> pieces = vocabulary.encode(sentence);
    if (pieces.empty()) continue;
    if (pieces.size() > most)
      cut_at_word_starts(pieces, vocabulary, most, parts);
    else
      parts.push_back(std::move(pieces));
  }
  return parts;
}

}  // namespace heed
