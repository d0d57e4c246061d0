#include "heed/data/corpus.h"

#include <fstream>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/text/clean_text.h"
#include "heed/text/utf8.h"

namespace heed {

namespace {

// One line of text as every reader takes it: a Windows line end dropped, UTF-8 checked (name,
// line and byte in the message).
std::string checked_line(std::string line, const std::string& name, size_t number) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (const auto bad = find_invalid_utf8(line)) fail("{}:{}: invalid UTF-8 at byte {} of the line", name, number, *bad + 1);
  return line;
}

}  // namespace

std::vector<std::string> read_lines(const std::string& path) {
  const std::string contents = read_file_or_pipe(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string::npos) end = contents.size();
    lines.push_back(checked_line(contents.substr(start, end - start), path, lines.size() + 1));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> read_lines(std::istream& in, const std::string& name) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(checked_line(std::move(line), name, lines.size() + 1));
  return lines;
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
