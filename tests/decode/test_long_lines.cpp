// Long lines are cut where the model can translate them: sentence ends first, then word starts.

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "heed/decode/long_lines.h"

namespace heed {
namespace {

std::vector<std::string> sentences_of(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view s : split_sentences(text)) out.emplace_back(s);
  return out;
}

TEST_CASE("a long line splits after sentence-ending punctuation followed by a space, closers kept") {
  CHECK(sentences_of("A dog runs. A cat sleeps! Does it? Yes.") ==
        std::vector<std::string>{"A dog runs.", "A cat sleeps!", "Does it?", "Yes."});
  CHECK(sentences_of("He said \"stop.\" Then he left...  Really?!") ==
        std::vector<std::string>{"He said \"stop.\"", "Then he left...", "Really?!"});
  CHECK(sentences_of("Version 2.5 costs 3.50 dollars") == std::vector<std::string>{"Version 2.5 costs 3.50 dollars"});
  CHECK(sentences_of("狗在跑。猫在睡。") == std::vector<std::string>{"狗在跑。", "猫在睡。"});
  CHECK(sentences_of("no end mark") == std::vector<std::string>{"no end mark"});
  CHECK(sentences_of("").empty());
}

}  // namespace
}  // namespace heed
