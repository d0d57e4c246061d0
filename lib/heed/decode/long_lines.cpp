#include "heed/decode/long_lines.h"

#include <algorithm>
#include <string>

namespace heed {
namespace {

// The sentence-ending mark at `i`, as its byte length, or 0. CJK full stops end a sentence
// without a following space.
struct Mark {
  size_t bytes = 0;
  bool needs_space = true;
};

Mark sentence_end_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '.' || c == '!' || c == '?') return {1, true};
  const std::string_view rest = s.substr(i);
  if (rest.starts_with("\u2026")) return {3, true};                     // …
  for (std::string_view cjk : {"\u3002", "\uFF01", "\uFF1F"})           // 。！？
    if (rest.starts_with(cjk)) return {cjk.size(), false};
  return {};
}

// Closing quotes and brackets that belong to the sentence before them.
size_t closer_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '"' || c == '\'' || c == ')' || c == ']') return 1;
  const std::string_view rest = s.substr(i);
  for (std::string_view closer : {"\u00BB", "\u201D", "\u2019", "\u300D", "\uFF09"})  // » ” ’ 」 ）
    if (rest.starts_with(closer)) return closer.size();
  return 0;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

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

std::vector<std::string_view> split_sentences(std::string_view text) {
  std::vector<std::string_view> sentences;
  size_t begin = 0, i = 0;
  while (i < text.size()) {
    const Mark mark = sentence_end_at(text, i);
    if (mark.bytes == 0) {
      ++i;
      continue;
    }
    size_t end = i + mark.bytes;
    while (end < text.size() && sentence_end_at(text, end).bytes > 0) end += sentence_end_at(text, end).bytes;  // "?!", "..."
    while (end < text.size() && closer_at(text, end) > 0) end += closer_at(text, end);
    if (!mark.needs_space || end == text.size() || is_space(text[end])) {
      sentences.push_back(text.substr(begin, end - begin));
      while (end < text.size() && is_space(text[end])) ++end;
      begin = end;
    }
    i = end;
  }
  if (begin < text.size()) sentences.push_back(text.substr(begin));
  return sentences;
}

std::vector<std::vector<int32_t>> split_long_line(std::string_view text, const Vocabulary& vocabulary, int64_t limit) {
  const size_t most = static_cast<size_t>(std::max<int64_t>(limit, 1));
  // One sentence a part, as the model was trained: packing several into one part lets the model
  // end after the first of them.
  std::vector<std::vector<int32_t>> parts;
  for (std::string_view sentence : split_sentences(text)) {
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
