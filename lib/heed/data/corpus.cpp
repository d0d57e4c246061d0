#include "heed/data/corpus.h"

#include <fstream>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/text/utf8.h"

namespace heed {

std::vector<std::string> read_lines(const std::string& path) {
  const std::string contents = read_file(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string::npos) end = contents.size();
    std::string line = contents.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files written on Windows
    if (const auto bad = find_invalid_utf8(line))
      fail("{}:{}: invalid UTF-8 at byte {} of the line", path, lines.size() + 1, *bad + 1);
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\f\v") == std::string::npos;
}

Corpus read_parallel_corpus(const std::string& source_path, const std::string& target_path,
                            const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary,
                            int64_t max_length) {
  const std::vector<std::string> source = read_lines(source_path);
  const std::vector<std::string> target = read_lines(target_path);
  HEED_CHECK(source.size() == target.size(),
             "the corpora do not match: {} has {} lines but {} has {}; line i of one must translate line i of the other",
             source_path, source.size(), target_path, target.size());
  Corpus corpus;
  corpus.stats.lines = static_cast<int64_t>(source.size());
  corpus.pairs.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (is_blank(source[i]) || is_blank(target[i])) {
      ++corpus.stats.empty;
      continue;
    }
    SentencePair pair{source_vocabulary.encode(source[i]), target_vocabulary.encode(target[i]), static_cast<int64_t>(i)};
    if (static_cast<int64_t>(pair.source.size()) > max_length || static_cast<int64_t>(pair.target.size()) > max_length) {
      ++corpus.stats.too_long;
      continue;
    }
    corpus.pairs.push_back(std::move(pair));
  }
  corpus.stats.kept = static_cast<int64_t>(corpus.pairs.size());
  return corpus;
}

}  // namespace heed
