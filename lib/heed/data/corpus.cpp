#include "heed/data/corpus.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
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
  LineReader reader(path, mark);
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line)) lines.push_back(line);
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

namespace {

// The lines `reader` has left, for a message about files of different lengths.
int64_t count_to_end(LineReader& reader) {
  std::string line;
  while (reader.next(line)) {
  }
  return reader.line_number();
}

int64_t held_bytes(const SentencePair& p) {
  return static_cast<int64_t>(sizeof(SentencePair) + p.source.capacity() * sizeof(int32_t) +
                              p.target.capacity() * sizeof(int32_t) + p.piece_links.capacity() * sizeof(Link));
}

}  // namespace

Corpus read_parallel_corpus(const std::string& source_path, const std::string& target_path,
                            const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary,
                            int64_t max_length, const std::string& links_path) {
  LineReader sources(source_path), targets(target_path);
  const bool guided = !links_path.empty();
  std::optional<LineReader> links;
  if (guided) links.emplace(links_path);
  Corpus corpus;
  if (std::error_code ec; std::filesystem::is_regular_file(source_path, ec)) {
    // A quick first pass counts the lines, so that the pairs are laid out once: a vector grown by
    // doubling holds up to three times their slots while it moves them to a larger block. (A pipe
    // can be read only once: its pairs grow as they come.)
    LineReader counting(source_path);
    corpus.pairs.reserve(static_cast<size_t>(count_to_end(counting)));
  }
  std::string source, target, link_line;
  while (true) {
    const bool has_source = sources.next(source), has_target = targets.next(target);
    const bool has_links = guided && links->next(link_line);
    if (has_source != has_target) {
      LineReader& longer = has_source ? sources : targets;
      const int64_t rest = count_to_end(longer);
      fail("the corpora do not match: {} has {} lines but {} has {}; line i of one must translate line i of the other",
           source_path, has_source ? rest : sources.line_number(), target_path, has_target ? rest : targets.line_number());
    }
    if (guided && has_links != has_source) {
      const int64_t corpus_lines = has_source ? count_to_end(sources) : sources.line_number();
      const int64_t link_lines = has_links ? count_to_end(*links) : links->line_number();
      fail("the alignments do not match the corpus: {} has {} lines but {} has {}; line i must hold the links of pair i",
           links_path, link_lines, source_path, corpus_lines);
    }
    if (!has_source) break;
    const int64_t i = sources.line_number() - 1;
    ++corpus.stats.lines;
    if (is_blank(source) || is_blank(target)) {
      ++corpus.stats.empty;
      continue;
    }
    SentencePair pair;
    pair.line = i;
    if (guided) {  // word by word, to know each piece's word
      const WordPieces s = encode_words(source_vocabulary, source), t = encode_words(target_vocabulary, target);
      pair.piece_links = piece_links_of(link_line, fmt::format("{}:{}", links_path, i + 1), s, t);
      pair.source = s.pieces;
      pair.target = t.pieces;
    } else {
      pair.source = source_vocabulary.encode(source);
      pair.target = target_vocabulary.encode(target);
    }
    if (static_cast<int64_t>(pair.source.size()) > max_length || static_cast<int64_t>(pair.target.size()) > max_length) {
      ++corpus.stats.too_long;
      continue;
    }
    corpus.stats.source_words += count_words(source);
    corpus.stats.source_pieces += static_cast<int64_t>(pair.source.size());
    pair.source.shrink_to_fit();
    pair.target.shrink_to_fit();
    pair.piece_links.shrink_to_fit();
    corpus.stats.bytes += held_bytes(pair);
    corpus.pairs.push_back(std::move(pair));
  }
  // Slots of skipped lines are kept unless they are many (shrinking copies every pair).
  if (corpus.pairs.size() < corpus.pairs.capacity() - corpus.pairs.capacity() / 4) corpus.pairs.shrink_to_fit();
  corpus.stats.bytes += static_cast<int64_t>(corpus.pairs.capacity() * sizeof(SentencePair)) -
                        static_cast<int64_t>(corpus.pairs.size() * sizeof(SentencePair));
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
