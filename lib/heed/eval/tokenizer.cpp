#include "heed/eval/tokenizer.h"

#include <functional>

#include "heed/core/error.h"
#include "heed/eval/unicode.h"

namespace heed {
namespace {

using Pred = std::function<bool(char32_t)>;

// re.sub(r'(A)(B)', with spaces, line) for single-character classes A and B: a left-to-right
// scan that, like Python's re.sub, never lets two matches overlap.
std::u32string separate_pairs(const std::u32string& s, const Pred& first, const Pred& second, bool space_before) {
  std::u32string out;
  out.reserve(s.size() * 2);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      if (space_before) {  // ' \1 \2'
        out += U' ';
        out += s[i];
        out += U' ';
        out += s[i + 1];
      } else {  // '\1 \2 '
        out += s[i];
        out += U' ';
        out += s[i + 1];
        out += U' ';
      }
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::u32string separate_each(const std::u32string& s, const Pred& pred) {  // '(A)' -> ' \1 '
  std::u32string out;
  out.reserve(s.size() * 2);
  for (char32_t c : s) {
    if (pred(c)) {
      out += U' ';
      out += c;
      out += U' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string join_words(const std::u32string& s) {  // ' '.join(line.split())
  std::u32string out;
  for (const std::u32string& w : split_whitespace(s)) {
    if (!out.empty()) out += U' ';
    out += w;
  }
  return encode_utf8(out);
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }

std::string tokenize_13a(std::string_view input) {
  std::string line(input);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  std::u32string s = decode_utf8(" " + line + " ");
  // [\{-\~\[-\` -\&\(-\+\:-\@\/]
  s = separate_each(s, [](char32_t c) {
    return (c >= U'{' && c <= U'~') || (c >= U'[' && c <= U'`') || (c >= U' ' && c <= U'&') || (c >= U'(' && c <= U'+') ||
           (c >= U':' && c <= U'@') || c == U'/';
  });
  const auto period_comma = [](char32_t c) { return c == U'.' || c == U','; };
  const auto not_digit = [](char32_t c) { return !is_ascii_digit(c); };
  s = separate_pairs(s, not_digit, period_comma, false);
  s = separate_pairs(s, period_comma, not_digit, true);
  s = separate_pairs(s, is_ascii_digit, [](char32_t c) { return c == U'-'; }, false);
  return join_words(s);
}

std::string tokenize_intl(std::string_view line) {
  std::u32string s = decode_utf8(line);
  const auto not_number = [](char32_t c) { return !is_number(c); };
  s = separate_pairs(s, not_number, is_punctuation, false);
  s = separate_pairs(s, is_punctuation, not_number, true);
  s = separate_each(s, is_symbol);
  return join_words(s);
}

}  // namespace

std::string tokenize_for_bleu(std::string_view line, BleuTokenizer tokenizer) {
  switch (tokenizer) {
    case BleuTokenizer::none: return std::string(line);
    case BleuTokenizer::t13a: return tokenize_13a(line);
    case BleuTokenizer::intl: return tokenize_intl(line);
  }
  return std::string(line);
}

BleuTokenizer parse_bleu_tokenizer(const std::string& name) {
  if (name == "none") return BleuTokenizer::none;
  if (name == "13a") return BleuTokenizer::t13a;
  if (name == "intl") return BleuTokenizer::intl;
  fail("unknown BLEU tokenizer '{}' (choose one of: none, 13a, intl)", name);
}

std::string to_string(BleuTokenizer tokenizer) {
  switch (tokenizer) {
    case BleuTokenizer::none: return "none";
    case BleuTokenizer::t13a: return "13a";
    case BleuTokenizer::intl: return "intl";
  }
  return "?";
}

}  // namespace heed
