#pragma once
// Reading parallel corpora: two text files, one sentence a line, line i of one translating
// line i of the other. Everything wrong with the input is found before training starts and
// reported with the file and line; pairs that are empty or too long are skipped and counted.

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "heed/data/line_reader.h"
#include "heed/data/links.h"
#include "heed/text/vocabulary.h"

namespace heed {

// Reads a text file's lines (without their newlines; a final line without one counts).
// Throws heed::Error naming file and line for invalid UTF-8.
std::vector<std::string> read_lines(const std::string& path, ByteOrderMark mark = ByteOrderMark::drop);
// The same from a stream (standard input), named `name` in messages.
std::vector<std::string> read_lines(std::istream& in, const std::string& name, ByteOrderMark mark = ByteOrderMark::drop);

struct SentencePair {
  std::vector<int32_t> source;  // pieces, without bos/eos
  std::vector<int32_t> target;
  int64_t line = 0;             // where the pair stands in the files, from 0
  // Guided alignment only: (source piece, target piece) links, the word links of the alignment
  // file spread over every piece pair of the two words.
  std::vector<Link> piece_links;
};

struct CorpusStats {
  int64_t lines = 0;
  int64_t bytes = 0;     // the memory the kept pairs hold
  int64_t kept = 0;
  int64_t empty = 0;     // either side empty or whitespace only
  int64_t too_long = 0;  // either side over max_length pieces
  int64_t source_words = 0, source_pieces = 0;  // of the kept pairs' sources: how finely the vocabulary cuts them
};

struct Corpus {
  std::vector<SentencePair> pairs;
  CorpusStats stats;
};

// Read a line at a time (data/line_reader.h): what is held is the pairs' pieces, never the text.
// max_length: the most pieces a side may have (the model adds bos/eos on top). links_path, when
// given: Pharaoh word links ("i-j", source word first, counted from 0; "ipj" counts as a link
// too), line by line parallel to the corpus, as eflomal or fast_align write them; words are the
// whitespace words of each line (text/word_pieces.h).
Corpus read_parallel_corpus(const std::string& source_path, const std::string& target_path,
                            const Vocabulary& source_vocabulary, const Vocabulary& target_vocabulary,
                            int64_t max_length, const std::string& links_path = "");

// A checksum of what training reads from a corpus: every kept pair's line, pieces and links. A
// resumed training compares it with its checkpoint's: other text (a file halved, shuffled or
// replaced) would silently not continue the same training.
uint64_t corpus_checksum(const Corpus& corpus);


}  // namespace heed
