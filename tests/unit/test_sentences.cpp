// Sentence splitting (text/sentences.h): the hard cases of real text, in English, German and French.

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "heed/core/error.h"
#include "heed/text/sentences.h"

namespace heed {
namespace {

using Sentences = std::vector<std::string>;

Sentences sentences_of(std::string_view text, SentenceLanguage language = SentenceLanguage::any) {
  Sentences out;
  for (std::string_view s : split_sentences(text, language)) out.emplace_back(s);
  return out;
}

TEST_CASE("sentences end after . ! ? … with their closing quotes and brackets, before white space") {
  CHECK(sentences_of("A dog runs. A cat sleeps! Does it? Yes.") == Sentences{"A dog runs.", "A cat sleeps!", "Does it?", "Yes."});
  CHECK(sentences_of("He said \"stop.\" Then he left...  Really?!") == Sentences{"He said \"stop.\"", "Then he left...", "Really?!"});
  CHECK(sentences_of("(It rained.) We stayed in.") == Sentences{"(It rained.)", "We stayed in."});
  CHECK(sentences_of("Wait… Now!") == Sentences{"Wait…", "Now!"});
  CHECK(sentences_of("狗在跑。猫在睡。") == Sentences{"狗在跑。", "猫在睡。"});
  CHECK(sentences_of("  no end mark  ") == Sentences{"no end mark"});
  CHECK(sentences_of("").empty());
  CHECK(sentences_of("   ").empty());
}

TEST_CASE("numbers, URLs and e-mail addresses hold no sentence end") {
  CHECK(sentences_of("Version 2.5 costs 3.50 dollars.") == Sentences{"Version 2.5 costs 3.50 dollars."});
  CHECK(sentences_of("See https://example.com/a.b?c=1 for more. Or write to info@example.org.") ==
        Sentences{"See https://example.com/a.b?c=1 for more.", "Or write to info@example.org."});
  CHECK(sentences_of("It grew by 3.5 % in 2019. Then it fell.") == Sentences{"It grew by 3.5 % in 2019.", "Then it fell."});
}

TEST_CASE("abbreviations, initials and acronyms end a sentence only where the next word says so") {
  CHECK(sentences_of("Dr. Smith arrived at 3 p.m. He left.") == Sentences{"Dr. Smith arrived at 3 p.m.", "He left."});
  CHECK(sentences_of("He moved to the U.S. last year.") == Sentences{"He moved to the U.S. last year."});
  CHECK(sentences_of("She lives in the U.S. Her brother does not.") == Sentences{"She lives in the U.S.", "Her brother does not."});
  CHECK(sentences_of("Mr. and Mrs. Brown met J. R. R. Tolkien, e.g. At a party.") ==
        Sentences{"Mr. and Mrs. Brown met J. R. R. Tolkien, e.g. At a party."});
  CHECK(sentences_of("See No. 5 and Fig. 3. No. It was not.") == Sentences{"See No. 5 and Fig. 3.", "No.", "It was not."});
  CHECK(sentences_of("Wait... what happened?") == Sentences{"Wait... what happened?"});
}

TEST_CASE("German: quotation marks, ordinals and abbreviations") {
  CHECK(sentences_of("Er sagte: „Komm!“ Dann ging er.") == Sentences{"Er sagte: „Komm!“", "Dann ging er."});
  CHECK(sentences_of("„Komm!“, sagte er. „Warum?“ fragte sie.") == Sentences{"„Komm!“, sagte er.", "„Warum?“ fragte sie."});
  CHECK(sentences_of("Am 3. Oktober feiern wir. Das ist z.B. Brauch.", SentenceLanguage::de) ==
        Sentences{"Am 3. Oktober feiern wir.", "Das ist z.B. Brauch."});
  CHECK(sentences_of("Er wohnt in der Hauptstr. Nr. 5 bei Hr. Müller. Sie nicht.", SentenceLanguage::de) ==
        Sentences{"Er wohnt in der Hauptstr. Nr. 5 bei Hr. Müller.", "Sie nicht."});
  // Outside German, a number before a capital ends the sentence.
  CHECK(sentences_of("They won 3. Oktober was cold.", SentenceLanguage::en) == Sentences{"They won 3.", "Oktober was cold."});
}

TEST_CASE("French: spaced punctuation and guillemets, titles") {
  CHECK(sentences_of("Il a dit : « Viens ! » Puis il est parti.") == Sentences{"Il a dit : « Viens ! »", "Puis il est parti."});
  CHECK(sentences_of("Vraiment ? Oui.") == Sentences{"Vraiment ?", "Oui."});
  CHECK(sentences_of("M. Dupont et Mme Martin sont là. Ils attendent.", SentenceLanguage::fr) ==
        Sentences{"M. Dupont et Mme Martin sont là.", "Ils attendent."});
  CHECK(sentences_of("Élise arrive. Ève aussi.") == Sentences{"Élise arrive.", "Ève aussi."});
  CHECK(sentences_of("Il est parti. à demain.") == Sentences{"Il est parti. à demain."});  // a lowercase word continues
}

TEST_CASE("a language's list applies only to it, and unknown languages are refused by name") {
  CHECK(sentences_of("Ask Mme. Curie.", SentenceLanguage::en) == Sentences{"Ask Mme.", "Curie."});
  CHECK(sentences_of("Ask Mme. Curie.", SentenceLanguage::fr) == Sentences{"Ask Mme. Curie."});
  CHECK(parse_sentence_language("de", "--split-sentences") == SentenceLanguage::de);
  CHECK_THROWS_WITH_AS(parse_sentence_language("xx", "--split-sentences"), doctest::Contains("--split-sentences: no sentence rules for 'xx'"), Error);
}

TEST_CASE("the sentences and the white space between them make up the line") {
  const std::string line = "  One. Two!  Three? \"Four.\" Five…   Six  ";
  std::string joined;
  for (std::string_view s : split_sentences(line)) {
    CHECK(!s.empty());
    CHECK(s.front() != ' ');
    CHECK(s.back() != ' ');
    joined += std::string(s);
  }
  std::string without_spaces;
  for (char c : line)
    if (c != ' ') without_spaces += c;
  std::string joined_without_spaces;
  for (char c : joined)
    if (c != ' ') joined_without_spaces += c;
  CHECK(joined_without_spaces == without_spaces);
  CHECK(split_sentences(line).size() == 6);
}

}  // namespace
}  // namespace heed
