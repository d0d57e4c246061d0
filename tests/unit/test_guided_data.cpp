// Guided alignment's data: word links read beside the corpus, spread over the words' pieces, and
// turned into each batch's row-normalised [B, T, S] targets; bad links named by file and line.

#include <doctest/doctest.h>

#include <fstream>

#include "heed/core/error.h"
#include "heed/data/batcher.h"
#include "heed/data/corpus.h"
#include "heed/core/file_io.h"
#include "heed/text/word_pieces.h"
#include "model/model_support.h"

using namespace heed;
using namespace heed::test;

namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("word links become piece links and each batch row shares its links evenly") {
  const Vocabulary& vocab = test_vocabulary();
  // Words the 40-piece vocabulary splits into several pieces, and words it keeps whole.
  const std::string source = "the doghouse sat on a blue mat", target = "a red housecat ran to the dog";
  const WordPieces s = encode_words(vocab, source), t = encode_words(vocab, target);
  REQUIRE(s.pieces.size() > static_cast<size_t>(s.words));  // some word has several pieces
  REQUIRE(t.pieces.size() > static_cast<size_t>(t.words));

  TempDir dir;
  write(dir.file("src"), source + "\n" + source + "\n");
  write(dir.file("tgt"), target + "\n" + target + "\n");
  write(dir.file("links"), "1-2 6-6 5-1 1-0\n\n");  // the second pair has no links
  ModelConfig config = tiny_config();
  const Corpus corpus = read_parallel_corpus(dir.file("src"), dir.file("tgt"), vocab, vocab, 100, dir.file("links"));
  REQUIRE(corpus.pairs.size() == 2);
  CHECK(corpus.pairs[0].source == s.pieces);  // the pieces are the line's own encoding
  CHECK(corpus.pairs[0].source == vocab.encode(source));
  CHECK(corpus.pairs[1].piece_links.empty());

  const BatchTensors batch = make_batch(corpus.pairs, {0, 1}, config.batch_layout());
  const Tensor& g = batch.batch.alignment;
  const int64_t rows = batch.batch.target_out.shape()[1], cols = batch.batch.source.shape()[1];
  REQUIRE(g.shape() == Shape({2, rows, cols}));
  const std::vector<Link> words{{1, 2}, {6, 6}, {5, 1}, {1, 0}};
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t j = 0; j < cols; ++j) {
      // Expected: target piece k's word links these source words; the row spreads 1 over their pieces.
      double expected = 0.0;
      if (k < static_cast<int64_t>(t.pieces.size()) && j < static_cast<int64_t>(s.pieces.size())) {
        int64_t linked_pieces = 0;
        bool linked = false;
        for (const Link& w : words) {
          if (w.second != t.word_of_piece[static_cast<size_t>(k)]) continue;
          for (int32_t sw : s.word_of_piece) linked_pieces += sw == w.first;
          linked |= w.first == s.word_of_piece[static_cast<size_t>(j)];
        }
        if (linked) expected = 1.0 / static_cast<double>(linked_pieces);
      }
      CAPTURE(k);
      CAPTURE(j);
      CHECK(g.f32()[k * cols + j] == doctest::Approx(expected));
      CHECK(g.f32()[(rows + k) * cols + j] == 0.0f);  // the pair without links
    }

  // Guided at the "shift" step, the same links sit one decoder position later (the position whose
  // input is the piece), and position 0, which reads the start symbol, links nothing.
  config.alignment_step = AlignmentStep::shift;
  const BatchTensors shifted = make_batch(corpus.pairs, {0, 1}, config.batch_layout());
  const Tensor& gs = shifted.batch.alignment;
  REQUIRE(gs.shape() == g.shape());
  for (int64_t j = 0; j < cols; ++j) CHECK(gs.f32()[j] == 0.0f);
  for (int64_t k = 0; k + 1 < rows; ++k)
    for (int64_t j = 0; j < cols; ++j) CHECK(gs.f32()[(k + 1) * cols + j] == g.f32()[k * cols + j]);
}

TEST_CASE("alignment files that do not fit the corpus are refused with the file and line") {
  const Vocabulary& vocab = test_vocabulary();
  TempDir dir;
  write(dir.file("src"), "the cat\nthe dog sat\n");
  write(dir.file("tgt"), "a cat\na dog\n");
  const auto read_with = [&](const std::string& links) {
    write(dir.file("links"), links);
    return read_parallel_corpus(dir.file("src"), dir.file("tgt"), vocab, vocab, 100, dir.file("links"));
  };
  CHECK_THROWS_WITH_AS(read_with("0-0\n"), doctest::Contains("has 1 lines but"), Error);
  CHECK_THROWS_WITH_AS(read_with("0-0\n3-1\n"), doctest::Contains("links:2: the link 3-1 names a word the pair does not have"), Error);
  CHECK_THROWS_WITH_AS(read_with("0-0\n1-x\n"), doctest::Contains("links:2"), Error);
  CHECK_NOTHROW(read_with("0-0 1p1\n2-1\n"));
}
