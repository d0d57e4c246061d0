// The formats `heed align` writes: escaped, well-formed, and saying what the matrix says.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "heed/align/writers.h"

namespace heed {
namespace {

PairAlignment example() {
  PairAlignment a;
  a.source = {"<b>", "\"A\"", "&"};
  a.target = {"x\\y", "z"};
  a.source_words = 3;
  a.target_words = 2;
  a.words = {2, 3, {0.6f, 0.3f, 0.1f, 0.0f, 0.2f, 0.2f}};
  a.links = {{0, 0}, {1, 1}, {2, 1}};
  return a;
}

// Every opening tag closed in order (void elements aside): what a browser needs to build the
// page we meant, and what an injected word would break.
bool balanced(const std::string& html) {
  std::vector<std::string> open;
  for (size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    const size_t end = html.find('>', i);
    if (end == std::string::npos) return false;
    std::string tag = html.substr(i + 1, end - i - 1);
    if (tag.starts_with('!')) continue;
    const bool closing = tag.starts_with('/');
    tag = tag.substr(closing ? 1 : 0, tag.find_first_of(" >") - (closing ? 1 : 0));
    if (tag == "meta") continue;
    if (!closing) {
      open.push_back(tag);
    } else {
      if (open.empty() || open.back() != tag) return false;
      open.pop_back();
    }
  }
  return open.empty();
}

TEST_CASE("the html page is well-formed, escapes the words and marks the links") {
  const std::string page = html_begin("a <title>") + html_pair(example(), 7) + html_end();
  CHECK(balanced(page));
  CHECK(page.find("&lt;b&gt;") != std::string::npos);
  CHECK(page.find("&quot;A&quot;") != std::string::npos);
  CHECK(page.find("<b>") == std::string::npos);  // the word never becomes markup
  CHECK(page.find("line 7") != std::string::npos);
  size_t marked = 0;
  for (size_t at = page.find("class=\"link\""); at != std::string::npos; at = page.find("class=\"link\"", at + 1)) ++marked;
  CHECK(marked == 3);
  CHECK(page.find("http") == std::string::npos);  // self-contained: nothing fetched
}

TEST_CASE("json and soft lines hold the words, the links and each target word's normalised attention") {
  const PairAlignment a = example();
  CHECK(json_line(a) ==
        "{\"source\":[\"<b>\",\"\\\"A\\\"\",\"&\"],\"target\":[\"x\\\\y\",\"z\"],\"links\":[[0,0],[1,1],[2,1]],"
        "\"attention\":[[0.6000,0.3000,0.1000],[0.0000,0.5000,0.5000]]}");
  CHECK(soft_line(a) == "0.6000,0.3000,0.1000 0.0000,0.5000,0.5000");
}

}  // namespace
}  // namespace heed
