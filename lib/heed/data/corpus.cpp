#include "heed/data/corpus.h"

#include <fmt/format.h>

#include <fstream>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/gzip.h"
#include "heed/text/clean_text.h"
#include "heed/text/utf8.h"
#include "heed/text/word_pieces.h"

namespace heed {

namespace {

// One line of text as every reader takes it: a Windows line end dropped, UTF-8 checked (name,
// line and byte in the message).
std::string checked_line(std::string line, const std::string& name, size_t number) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (const auto bad = find_invalid_utf8(line)) fail("{}:{}: invalid UTF-8 at byte {} of the line", name, number, *bad + 1);
  return line;
}

// The piece links of one pair: every piece of source word i with every piece of target word j.
std::vector<Link> piece_links_of(const std::string& links_line, const std::string& where, const WordPieces& source,
                                 const WordPieces& target) {
  const GoldLinks words = parse_links(links_line, where, /*allow_possible=*/true);
  const auto pieces_of_words = [](const WordPieces& side) {
    std::vector<std::vector<int32_t>> pieces(static_cast<size_t>(side.words));
    for (size_t p = 0; p < side.word_of_piece.size(); ++p) pieces[static_cast<size_t>(side.word_of_piece[p])].push_back(static_cast<int32_t>(p));
    return pieces;
  };
  const auto source_pieces = pieces_of_words(source), target_pieces = pieces_of_words(target);
  std::vector<Link> out;
  for (const std::vector<Link>* kind : {&words.sure, &words.possible})
    for (const Link& link : *kind) {
      HEED_CHECK(link.first < source.words && link.second < target.words,
                 "{}: the link {}-{} names a word the pair does not have (the source line has {} words, the target "
                 "line {}; words are counted from 0)", where, link.first, link.second, source.words, target.words);
      for (int32_t s : source_pieces[static_cast<size_t>(link.first)])
        for (int32_t t : target_pieces[static_cast<size_t>(link.second)]) out.emplace_back(s, t);
    }
  return out;
}

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

std::vector<std::string> read_lines(const std::string& path, ByteOrderMark mark) {
  const std::string contents = text_of(read_file_or_pipe(path), path);
  std::vector<std::string> lines;
  size_t start = mark == ByteOrderMark::drop && contents.starts_with(kByteOrderMark) ? kByteOrderMark.size() : 0;
  while (start < contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string::npos) end = contents.size();
    lines.push_back(checked_line(contents.substr(start, end - start), path, lines.size() + 1));
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> read_lines(std::istream& in, const std::string& name, ByteOrderMark mark) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (mark == ByteOrderMark::drop && lines.empty() && line.starts_with(kByteOrderMark)) line.erase(0, kByteOrderMark.size());
    lines.push_back(checked_line(std::move(line), name, lines.size() + 1));
  }
  return lines;
}

Corpus read_parallel_corpus(const std::string& source_path, const std::string& target_path,
                            const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary,
                            int64_t max_length, const std::string& links_path) {
  const std::vector<std::string> source = read_lines(source_path);
  const std::vector<std::string> target = read_lines(target_path);
  HEED_CHECK(source.size() == target.size(),
             "the corpora do not match: {} has {} lines but {} has {}; line i of one must translate line i of the other",
             source_path, source.size(), target_path, target.size());
  const bool guided = !links_path.empty();
  const std::vector<std::string> links = guided ? read_lines(links_path) : std::vector<std::string>{};
  HEED_CHECK(!guided || links.size() == source.size(),
             "the alignments do not match the corpus: {} has {} lines but {} has {}; line i must hold the links of pair i",
             links_path, links.size(), source_path, source.size());
  Corpus corpus;
  corpus.stats.lines = static_cast<int64_t>(source.size());
  corpus.pairs.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (is_blank(source[i]) || is_blank(target[i])) {
      ++corpus.stats.empty;
      continue;
    }
    SentencePair pair;
    pair.line = static_cast<int64_t>(i);
    if (guided) {  // word by word, to know each piece's word
      const WordPieces s = encode_words(source_vocabulary, source[i]), t = encode_words(target_vocabulary, target[i]);
      pair.piece_links = piece_links_of(links[i], fmt::format("{}:{}", links_path, i + 1), s, t);
      pair.source = s.pieces;
      pair.target = t.pieces;
    } else {
      pair.source = source_vocabulary.encode(source[i]);
      pair.target = target_vocabulary.encode(target[i]);
    }
    if (static_cast<int64_t>(pair.source.size()) > max_length || static_cast<int64_t>(pair.target.size()) > max_length) {
      ++corpus.stats.too_long;
      continue;
    }
    corpus.stats.source_words += count_words(source[i]);
    corpus.stats.source_pieces += static_cast<int64_t>(pair.source.size());
    corpus.pairs.push_back(std::move(pair));
  }
  corpus.stats.kept = static_cast<int64_t>(corpus.pairs.size());
  return corpus;
}

uint64_t corpus_checksum(const Corpus& corpus) {
  uint64_t h = kFnv1aOffset;
  const auto mix = [&h](const void* data, size_t bytes) { h = fnv1a64({static_cast<const char*>(data), bytes}, h); };
  for (const SentencePair& p : corpus.pairs) {
    const int64_t sizes[] = {p.line, static_cast<int64_t>(p.source.size()), static_cast<int64_t>(p.target.size()),
                             static_cast<int64_t>(p.piece_links.size())};
    mix(sizes, sizeof sizes);
    mix(p.source.data(), p.source.size() * sizeof(int32_t));
    mix(p.target.data(), p.target.size() * sizeof(int32_t));
    for (const Link& link : p.piece_links) {
      const int32_t ends[] = {link.first, link.second};
      mix(ends, sizeof ends);
    }
  }
  return h;
}

}  // namespace heed
