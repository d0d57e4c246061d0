// Gzipped corpora: read as their text, every member of a concatenated file, and a damaged or
// truncated file refused with its name instead of read as text that is not there.

#include <doctest/doctest.h>
#include <zlib.h>

#include <fstream>
#include <string>

#include "heed/core/error.h"
#include "heed/core/gzip.h"
#include "heed/data/corpus.h"
#include "heed/text/vocabulary.h"
#include "support.h"

using namespace heed;
using namespace heed::test;

namespace {

// `text` as one gzip member, as gzip(1) writes it.
std::string gzipped(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string sentences(int count) {
  std::string text;
  const char* words[] = {"the", "dog", "runs", "across", "a", "green", "field", "while", "children", "play", "music"};
  for (int i = 0; i < count; ++i) {
    for (int w = 0; w < 4 + i % 7; ++w) text += std::string(w ? " " : "") + words[(i * 7 + w * 3) % 11];
    text += "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("gzip: a file's text, every member of a concatenated file, and plain text passed through") {
  const std::string a = sentences(3000), b = "one more line\n";
  CHECK(looks_gzipped(gzipped(a)));
  CHECK_FALSE(looks_gzipped(a));
  CHECK(gunzip(gzipped(a), "a.gz") == a);
  CHECK(gunzip(gzipped(a) + gzipped(b), "ab.gz") == a + b);  // cat a.gz b.gz
  CHECK(text_of(a, "a") == a);
  CHECK(gunzip(gzipped(""), "empty.gz").empty());
}

TEST_CASE("gzip: a truncated, damaged or padded file is refused with its name") {
  const std::string whole = gzipped(sentences(3000));
  CHECK_THROWS_WITH_AS(gunzip(whole.substr(0, whole.size() / 2), "cut.gz"), doctest::Contains("cut.gz: its gzip data ends early"), Error);
  std::string damaged = whole;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x55);
  damaged[damaged.size() / 2 + 1] = static_cast<char>(damaged[damaged.size() / 2 + 1] ^ 0x55);
  CHECK_THROWS_WITH_AS(gunzip(damaged, "bad.gz"), doctest::Contains("bad.gz: its gzip data"), Error);
  CHECK_THROWS_WITH_AS(gunzip(whole + "junk", "padded.gz"), doctest::Contains("are not gzip"), Error);
}

TEST_CASE("a gzipped corpus reads as its text, and trains the vocabulary the plain one does") {
  TempDir dir;
  const std::string text = sentences(2000);
  write(dir.file("plain.txt"), text);
  write(dir.file("packed.txt.gz"), gzipped(text));
  CHECK(read_lines(dir.file("packed.txt.gz")) == read_lines(dir.file("plain.txt")));
  VocabularyTraining training;
  training.size = 40;
  training.hard_size_limit = false;
  training.inputs = {dir.file("plain.txt")};
  const std::string plain = Vocabulary::train(training).serialized();
  training.inputs = {dir.file("packed.txt.gz")};
  CHECK(Vocabulary::train(training).serialized() == plain);
}

TEST_CASE("a corpus is read a line at a time, gzipped or not: every line as it is, whatever its length") {
  TempDir dir;
  const std::string long_line(3 << 20, 'x');  // longer than the reader's block
  const std::string text = "\xEF\xBB\xBF" "first\r\nsecond\n\n" + long_line + "\nlast without newline";
  write(dir.file("plain.txt"), text);
  write(dir.file("packed.txt.gz"), gzipped(text) + gzipped("\nand a second member\n"));
  const std::vector<std::string> expected = {"first", "second", "", long_line, "last without newline"};
  CHECK(read_lines(dir.file("plain.txt")) == expected);
  std::vector<std::string> with_member = expected;  // the second member ends the first's last line
  with_member.push_back("and a second member");
  CHECK(read_lines(dir.file("packed.txt.gz")) == with_member);
  LineReader reader(dir.file("plain.txt"), ByteOrderMark::keep);
  std::string line;
  REQUIRE(reader.next(line));
  CHECK(line == "\xEF\xBB\xBF" "first");
  CHECK(reader.line_number() == 1);

  // Damage is reported with the file and the line reached, never read as text that is not there.
  const std::string packed = gzipped(sentences(3000));
  write(dir.file("cut.txt.gz"), packed.substr(0, packed.size() / 2));
  CHECK_THROWS_WITH_AS(read_lines(dir.file("cut.txt.gz")), doctest::Contains("cut.txt.gz: its gzip data ends early, after line"),
                       Error);
  write(dir.file("bad.txt"), "fine\nnot \xC3( fine\n");
  CHECK_THROWS_WITH_AS(read_lines(dir.file("bad.txt")), doctest::Contains("bad.txt:2: invalid UTF-8 at byte 5"), Error);
}
