#include "heed/core/yaml_map.h"

#include <string_view>

#include "heed/core/error.h"

namespace heed {
namespace {

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | c >> 6);
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | c >> 12);
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | c >> 18);
    out += static_cast<char>(0x80 | (c >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// One line's scanner: `where` is "file:line" for errors.
class Line {
 public:
  Line(std::string_view text, std::string where) : text_(text), where_(std::move(where)) {}
  const std::string& where() const { return where_; }
  bool done() const { return at_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[at_]; }
  void skip_spaces() {
    while (!done() && (text_[at_] == ' ' || text_[at_] == '\t')) ++at_;
  }
  // The rest is blank or a comment.
  bool rest_is_empty() {
    skip_spaces();
    return done() || peek() == '#';
  }

  std::string quoted() {
    const char quote = text_[at_++];
    std::string out;
    while (true) {
      HEED_CHECK(!done(), "{}: a quoted string does not end on its line (multi-line strings are not read)", where_);
      const char c = text_[at_++];
      if (quote == '\'' && c == '\'') {
        if (peek() != '\'') return out;
        out += '\'';
        ++at_;
      } else if (quote == '"' && c == '"') {
        return out;
      } else if (quote == '"' && c == '\\') {
        escape(out);
      } else {
        out += c;
      }
    }
  }

  // A plain scalar up to `stops` (any of its characters), a " #" comment or the end, trimmed.
  std::string plain(std::string_view stops) {
    const size_t begin = at_;
    while (!done() && stops.find(peek()) == std::string_view::npos &&
           !(peek() == '#' && at_ > begin && (text_[at_ - 1] == ' ' || text_[at_ - 1] == '\t')))
      ++at_;
    std::string_view value = text_.substr(begin, at_ - begin);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return std::string(value);
  }

  // A key: quoted, or plain up to the ':' that is followed by a space or the line's end.
  std::string key() {
    if (peek() == '"' || peek() == '\'') {
      std::string k = quoted();
      skip_spaces();
      HEED_CHECK(peek() == ':', "{}: a ':' must follow the key", where_);
      ++at_;
      return k;
    }
    const size_t begin = at_;
    while (!done() && !(peek() == ':' && (at_ + 1 == text_.size() || text_[at_ + 1] == ' ' || text_[at_ + 1] == '\t')))
      ++at_;
    HEED_CHECK(!done(), "{}: expected 'key: value'", where_);
    std::string_view k = text_.substr(begin, at_ - begin);
    while (!k.empty() && k.back() == ' ') k.remove_suffix(1);
    ++at_;
    return std::string(k);
  }

  std::string scalar(std::string_view stops) {
    skip_spaces();
    const char c = peek();
    HEED_CHECK(std::string_view("{&*!|>%@`").find(c) == std::string_view::npos || c == '\0',
               "{}: '{}' starts YAML that heed does not read here (nested mappings, anchors, tags, block scalars)",
               where_, c);
    return c == '"' || c == '\'' ? quoted() : plain(stops);
  }

  std::vector<std::string> flow_list() {
    ++at_;  // '['
    std::vector<std::string> items;
    skip_spaces();
    if (peek() == ']') {
      ++at_;
      return items;
    }
    while (true) {
      items.push_back(scalar(",]"));
      skip_spaces();
      HEED_CHECK(!done(), "{}: a '[' list does not end on its line", where_);
      if (text_[at_++] == ']') return items;
    }
  }

 private:
  void escape(std::string& out) {
    HEED_CHECK(!done(), "{}: a '\\' ends the line inside a quoted string", where_);
    const char e = text_[at_++];
    const auto hex = [&](int digits) {
      uint32_t v = 0;
      for (int i = 0; i < digits; ++i) {
        const char h = peek();
        const int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        HEED_CHECK(d >= 0, "{}: \\{} needs {} hexadecimal digits", where_, e, digits);
        v = v * 16 + static_cast<uint32_t>(d);
        ++at_;
      }
      HEED_CHECK(v <= 0x10FFFF && (v < 0xD800 || v > 0xDFFF), "{}: \\{} names no character", where_, e);
      append_utf8(out, v);
    };
    switch (e) {
      case '0': out += '\0'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 't': case '\t': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'v': out += '\v'; break;
      case 'f': out += '\f'; break;
      case 'r': out += '\r'; break;
      case 'e': out += '\x1b'; break;
      case ' ': case '"': case '/': case '\\': out += e; break;
      case 'N': append_utf8(out, 0x85); break;
      case '_': append_utf8(out, 0xA0); break;
      case 'L': append_utf8(out, 0x2028); break;
      case 'P': append_utf8(out, 0x2029); break;
      case 'x': hex(2); break;
      case 'u': hex(4); break;
      case 'U': hex(8); break;
      default: fail("{}: unknown escape \\{} in a quoted string", where_, e);
    }
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string where_;
};

}  // namespace

YamlMap YamlMap::parse(const std::string& text, const std::string& what) {
  YamlMap map;
  map.what_ = what;
  std::string_view rest = text;
  YamlValue* open_list = nullptr;  // the last key's value, while it had none on its line
  for (size_t number = 1; !rest.empty(); ++number) {
    const size_t newline = rest.find('\n');
    std::string_view text_line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (!text_line.empty() && text_line.back() == '\r') text_line.remove_suffix(1);
    Line line(text_line, what + ":" + std::to_string(number));
    if (text_line.starts_with("---") || text_line.starts_with("...") || text_line.starts_with("%")) continue;
    const bool indented = line.peek() == ' ' || line.peek() == '\t';
    if (line.rest_is_empty()) continue;
    const std::string_view content = text_line.substr(text_line.find_first_not_of(" \t"));
    if (content == "-" || content.starts_with("- ") || content.starts_with("-\t")) {
      HEED_CHECK(open_list != nullptr, "{}: a list item where no key expects one", line.where());
      open_list->is_list = true;
      Line item(content.substr(1), line.where());
      open_list->items.push_back(item.scalar(""));
      HEED_CHECK(item.rest_is_empty(), "{}: text after the list item", line.where());
      continue;
    }
    HEED_CHECK(!indented, "{}: an indented line that is not a list item (nested mappings are not read)", line.where());
    std::string key = line.key();
    HEED_CHECK(map.find(key) == nullptr, "{}: the key '{}' is given twice", line.where(), key);
    YamlValue value;
    line.skip_spaces();
    if (line.peek() == '[') value.items = line.flow_list(), value.is_list = true;
    else value.scalar = line.scalar("");
    HEED_CHECK(line.rest_is_empty(), "{}: text after the value of '{}'", line.where(), key);
    map.entries_.emplace_back(std::move(key), std::move(value));
    open_list = !map.entries_.back().second.is_list && map.entries_.back().second.scalar.empty()
                    ? &map.entries_.back().second
                    : nullptr;
  }
  return map;
}

const YamlValue* YamlMap::find(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}

std::string YamlMap::scalar_or(const std::string& key, const std::string& otherwise) const {
  const YamlValue* v = find(key);
  if (v == nullptr) return otherwise;
  HEED_CHECK(!v->is_list, "{}: '{}' is a list where one value was expected", what_, key);
  return v->scalar;
}

std::vector<std::string> YamlMap::list(const std::string& key) const {
  const YamlValue* v = find(key);
  if (v == nullptr) return {};
  HEED_CHECK(v->is_list || v->scalar.empty(), "{}: '{}' is one value where a list was expected", what_, key);
  return v->items;
}

}  // namespace heed
