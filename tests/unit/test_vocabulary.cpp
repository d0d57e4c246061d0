// Vocabulary::encode on text longer than SentencePiece is given at once: the same pieces as
// word by word, nothing lost at the cuts, and memory that does not grow with the line.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "heed/text/word_pieces.h"
#include "model/model_support.h"

using namespace heed;
using namespace heed::test;

TEST_CASE("a long line is encoded in parts cut at spaces, giving its words' own pieces") {
  const Vocabulary& vocab = test_vocabulary();
  std::string text;
  while (text.size() < 100000) text += "the doghouse sat on a blue mat  a red housecat ran to the dog ";
  // Word by word, each word gets its own word-start piece: what the whole line must give.
  const WordPieces words = encode_words(vocab, text);
  const std::vector<int32_t> pieces = vocab.encode(text);
  CHECK(pieces.size() > 25000);
  CHECK(pieces.size() == words.pieces.size());
  CHECK((pieces == words.pieces));  // (not printed: 25,000 numbers)

  // A run of 40,000 bytes without a space is cut between characters: nothing is lost, and each cut
  // reads as a word start.
  std::string run;
  while (run.size() < 40000) run += "doghouse";
  std::string decoded = vocab.decode(vocab.encode(run));
  CHECK(std::count(decoded.begin(), decoded.end(), ' ') == 2);
  decoded.erase(std::remove(decoded.begin(), decoded.end(), ' '), decoded.end());
  CHECK((decoded == run));
}
