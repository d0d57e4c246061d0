#include "heed/decode/long_lines.h"

#include <algorithm>
#include <string>

namespace heed {
namespace {

// Cuts `pieces` into runs of at most `limit`, each ending before a word start when one lies in
// the second half of the run, so that words stay whole.
void cut_at_word_starts(const std::vector<int32_t>& pieces, const Vocabulary& vocabulary, size_t limit,
                        std::vector<std::vector<int32_t>>& parts) {
  size_t start = 0;
  while (start < pieces.size()) {
    size_t end = std::min(pieces.size(), start + limit);
    if (end < pieces.size()) {
      for (size_t k = end; k > start + limit / 2; --k)
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
                                                  SentenceLanguage language) {
  const size_t most = static_cast<size_t>(std::max<int64_t>(limit, 1));
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
