#include "heed/text/sentences.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <span>

#include "heed/core/error.h"

namespace heed {
namespace {

using List = std::span<const std::string_view>;

// Abbreviations after which a full stop never ends a sentence (a capitalised name or noun may
// follow), without their final full stop. Written for heed from each language's usage.
constexpr std::string_view kEnglishTitles[] = {"Mr",  "Mrs", "Ms",   "Messrs", "Dr",  "Prof", "Sr",  "Jr",     "St", "Mt",
                                 "Gen", "Col", "Lt",   "Sgt",    "Capt", "Cpt", "Gov", "Sen",    "Rep", "Rev",
                                 "Hon", "e.g", "i.e",  "cf",     "vs",  "approx", "Ave", "Blvd", "Ph.D", "M.D"};
constexpr std::string_view kGermanTitles[] = {"Hr",  "Hrn", "Fr",   "Frl", "Dr",  "Prof", "Dipl", "Ing",  "St",  "Str", "z.B", "d.h",
                                "u.a", "u.U", "v.a",  "z.T", "o.ä", "u.ä",  "s.o",  "s.u",  "bzw", "ca",  "evtl",
                                "ggf", "vgl", "sog",  "inkl", "zzgl", "geb", "gest", "Mio", "Mrd", "Tsd", "Hbf"};
constexpr std::string_view kFrenchTitles[] = {"M",   "MM",  "Mme", "Mmes", "Mlle", "Mlles", "Me",  "Mgr", "Dr", "Pr",
                                "St",  "Ste", "av",  "bd",   "boul", "cf",    "env", "p.ex", "ex", "Cie"};
// Abbreviations that end no sentence when a number follows (No. 5, Nr. 5, Jan. 5).
constexpr std::string_view kEnglishBeforeNumber[] = {"No",  "Nos", "no",  "nos", "Art", "art", "p",   "pp",  "Fig", "fig", "Vol",
                                       "vol", "Ch",  "ch",  "Sec", "sec", "Tel", "tel", "Jan", "Feb", "Mar", "Apr",
                                       "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"};
constexpr std::string_view kGermanBeforeNumber[] = {"Nr",  "Art", "Abs", "S",   "Tel", "Bd",  "Kap", "Abb", "Tab", "Jan",
                                      "Feb", "Mär", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Okt", "Nov", "Dez"};
constexpr std::string_view kFrenchBeforeNumber[] = {"no",   "No",   "n°",  "art", "p",   "pp",   "chap", "fig",  "vol", "t",
                                      "tél",  "janv", "févr", "avr", "juil", "sept", "oct",  "nov", "déc"};
// German writes ordinals with a full stop: "am 3. Oktober".
constexpr std::string_view kGermanMonths[] = {"Januar", "Februar", "März",      "April",   "Mai",      "Juni",     "Juli",
                                "August", "September", "Oktober", "November", "Dezember", "Jänner"};

bool in(List list, std::string_view word) { return std::find(list.begin(), list.end(), word) != list.end(); }

bool language_has(SentenceLanguage language, SentenceLanguage one) {
  return language == SentenceLanguage::any || language == one;
}

bool is_title(SentenceLanguage language, std::string_view word) {
  return (language_has(language, SentenceLanguage::en) && in(kEnglishTitles, word)) ||
         (language_has(language, SentenceLanguage::de) && in(kGermanTitles, word)) ||
         (language_has(language, SentenceLanguage::fr) && in(kFrenchTitles, word));
}

bool is_before_number(SentenceLanguage language, std::string_view word) {
  return (language_has(language, SentenceLanguage::en) && in(kEnglishBeforeNumber, word)) ||
         (language_has(language, SentenceLanguage::de) && in(kGermanBeforeNumber, word)) ||
         (language_has(language, SentenceLanguage::fr) && in(kFrenchBeforeNumber, word));
}

// The code point at text[i] and its length in bytes (the text is valid UTF-8: the translator
// checks every line before splitting it).
struct CodePoint {
  char32_t value = 0;
  size_t bytes = 0;
};

CodePoint code_point_at(std::string_view text, size_t i) {
  if (i >= text.size()) return {};
  const auto b = static_cast<unsigned char>(text[i]);
  const size_t bytes = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  if (i + bytes > text.size()) return {b, 1};
  char32_t value = bytes == 1 ? b : bytes == 2 ? (b & 0x1F) : bytes == 3 ? (b & 0x0F) : (b & 0x07);
  for (size_t k = 1; k < bytes; ++k) value = (value << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  return {value, bytes};
}

// Lowercase letters of the Latin, Greek and Cyrillic scripts: what starts a word that continues
// a sentence. (Scripts without case never look like the start of a new sentence's capital, so
// a break before them is decided by the full stop alone.)
bool is_lowercase_letter(char32_t c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 0xDF && c <= 0xFF) return c != 0xF7;                  // ß à … ÿ, not ÷
  if (c >= 0x100 && c <= 0x17F) {                                // Latin Extended-A: pairs, capital first
    if (c == 0x138 || c == 0x149 || c == 0x17F) return true;      // ĸ ŉ ſ
    if (c == 0x178) return false;                                // Ÿ
    const bool odd_is_lower = c < 0x139 || (c > 0x149 && c < 0x178);
    return (c % 2 == 1) == odd_is_lower;
  }
  if (c >= 0x3AC && c <= 0x3CE) return true;                     // Greek
  return c >= 0x430 && c <= 0x45F;                               // Cyrillic
}

bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

// Spaces that separate sentences; the no-break spaces French puts before ! ? » do not.
bool is_break_space(char c) { return c == ' ' || c == '\t'; }

struct Mark {
  size_t bytes = 0;
  bool needs_space = true;
};

// The sentence-ending mark at i, or none.
Mark sentence_end_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '.' || c == '!' || c == '?') return {1, true};
  const std::string_view rest = s.substr(i);
  if (rest.starts_with("\u2026")) return {3, true};            // …
  for (std::string_view cjk : {"\u3002", "\uFF01", "\uFF1F"})  // 。！？
    if (rest.starts_with(cjk)) return {cjk.size(), false};
  return {};
}

// Closing quotes and brackets that belong to the sentence before them: " ' ) ] » ” “ ’ ‘ › 」 ）
// (German closes with “ and ‘).
size_t closer_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '"' || c == '\'' || c == ')' || c == ']') return 1;
  const std::string_view rest = s.substr(i);
  for (std::string_view closer : {"\u00BB", "\u201D", "\u201C", "\u2019", "\u2018", "\u203A", "\u300D", "\uFF09"})
    if (rest.starts_with(closer)) return closer.size();
  return 0;
}

// French spacing at i that belongs to the sentence before it: a no-break space (U+00A0, U+202F)
// before a mark or a closer, or a plain one before ! ? … » › (not before " or ', which may open
// the next sentence). Its length in bytes, or 0.
size_t french_space_at(std::string_view s, size_t i) {
  const std::string_view rest = s.substr(i);
  for (std::string_view space : {"\u00A0", "\u202F"})
    if (rest.starts_with(space) && i + space.size() < s.size() &&
        (closer_at(s, i + space.size()) > 0 || sentence_end_at(s, i + space.size()).bytes > 0))
      return space.size();
  if (!rest.starts_with(" ")) return 0;
  const std::string_view after = rest.substr(1);
  for (std::string_view follower : {"!", "?", "\u2026", "\u00BB", "\u203A"})
    if (after.starts_with(follower)) return 1;
  return 0;
}

// Opening quotes and brackets before a sentence's first word: " ' ( [ « „ “ ‘ ‚ ‹ ¿ ¡
size_t opener_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '"' || c == '\'' || c == '(' || c == '[') return 1;
  const std::string_view rest = s.substr(i);
  for (std::string_view opener : {"\u00AB", "\u201E", "\u201C", "\u2018", "\u201A", "\u2039", "\u00BF", "\u00A1"})
    if (rest.starts_with(opener)) return opener.size();
  return 0;
}

// The first code point of the word that starts at i, past opening quotes and brackets.
char32_t word_start(std::string_view s, size_t i) {
  while (i < s.size()) {
    const size_t opener = opener_at(s, i);
    if (opener == 0) break;
    i += opener;
  }
  return code_point_at(s, i).value;
}

// The word that a full stop at `stop` ends, without the stop and without opening quotes or
// brackets: "Dr" in "(Dr. Smith".
std::string_view word_before(std::string_view s, size_t stop) {
  size_t begin = stop;
  while (begin > 0 && !is_break_space(s[begin - 1])) --begin;
  while (begin < stop) {
    const size_t opener = opener_at(s, begin);
    if (opener == 0) break;
    begin += opener;
  }
  return s.substr(begin, stop - begin);
}

bool is_single_letter(std::string_view word) {
  const CodePoint c = code_point_at(word, 0);
  return c.bytes == word.size() && c.bytes > 0 && !is_digit(c.value) && (c.bytes > 1 || std::isalpha(static_cast<unsigned char>(word[0])));
}

bool all_digits(std::string_view word) {
  return !word.empty() && word.size() <= 2 && std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether a full stop at `stop`, ending the word before it, leaves the sentence open although
// the word after it (at `next`) starts with a capital or a digit.
bool stop_continues(std::string_view s, size_t stop, size_t next, SentenceLanguage language) {
  const std::string_view word = word_before(s, stop);
  if (word.empty()) return false;
  if (is_title(language, word) || is_single_letter(word)) return true;
  // German street names: Hauptstr., Bahnhofstr.
  if (language_has(language, SentenceLanguage::de) && word.size() > 3 && word.ends_with("str")) return true;
  if (is_digit(word_start(s, next)) && is_before_number(language, word)) return true;
  if (language_has(language, SentenceLanguage::de) && all_digits(word)) {
    size_t end = next;
    while (end < s.size() && !is_break_space(s[end]) && s[end] != ',' && s[end] != '.') ++end;
    return in(kGermanMonths, s.substr(next, end - next));
  }
  return false;
}

}  // namespace

SentenceLanguage parse_sentence_language(std::string_view code, std::string_view what) {
  if (code == "any") return SentenceLanguage::any;
  if (code == "en") return SentenceLanguage::en;
  if (code == "de") return SentenceLanguage::de;
  if (code == "fr") return SentenceLanguage::fr;
  fail("{}: no sentence rules for '{}' (en, de, fr or any)", what, code);
}

std::vector<std::string_view> split_sentences(std::string_view text, SentenceLanguage language) {
  std::vector<std::string_view> sentences;
  size_t begin = 0;
  while (begin < text.size() && is_break_space(text[begin])) ++begin;
  size_t i = begin;
  while (i < text.size()) {
    const Mark mark = sentence_end_at(text, i);
    if (mark.bytes == 0) {
      ++i;
      continue;
    }
    // The whole run of marks ("?!", "..."), then closers, each perhaps after French spacing.
    size_t end = i + mark.bytes;
    const bool single_stop = text[i] == '.' && (end == text.size() || sentence_end_at(text, end).bytes == 0);
    while (end < text.size() && sentence_end_at(text, end).bytes > 0) end += sentence_end_at(text, end).bytes;
    while (end < text.size()) {
      if (const size_t closer = closer_at(text, end)) {
        end += closer;
      } else if (const size_t space = french_space_at(text, end)) {
        end += space;
        while (end < text.size() && sentence_end_at(text, end).bytes > 0) end += sentence_end_at(text, end).bytes;
      } else {
        break;
      }
    }
    size_t next = end;
    while (next < text.size() && is_break_space(text[next])) ++next;
    bool ends = next == text.size() || !mark.needs_space || next > end;
    if (ends && next < text.size()) {
      const char32_t first = word_start(text, next);
      if (is_lowercase_letter(first)) ends = false;
      else if (single_stop && stop_continues(text, i, next, language)) ends = false;
    }
    if (ends) {
      sentences.push_back(text.substr(begin, end - begin));
      begin = next;
    }
    i = end;
  }
  size_t last = text.size();
  while (last > begin && is_break_space(text[last - 1])) --last;
  if (begin < last) sentences.push_back(text.substr(begin, last - begin));
  return sentences;
}

}  // namespace heed
