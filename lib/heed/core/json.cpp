#include "heed/core/json.h"

#include <cmath>
#include <cstdlib>

#include "heed/core/error.h"

namespace heed {

const char* json_kind_name(Json::Kind kind) {
  switch (kind) {
    case Json::Kind::null: return "null";
    case Json::Kind::boolean: return "a boolean";
    case Json::Kind::number: return "a number";
    case Json::Kind::string: return "a string";
    case Json::Kind::array: return "an array";
    case Json::Kind::object: return "an object";
  }
  return "?";
}

class JsonParser {
 public:
  JsonParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  Json document() {
    Json value = parse_value(0);
    skip_space();
    if (at_ < text_.size()) fail_here("text after the end of the document");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 256;

  [[noreturn]] void fail_here(const std::string& problem) const {
    int64_t line = 1, column = 1;
    for (size_t i = 0; i < at_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    fail("{}:{}:{}: not valid JSON: {}", what_, line, column, problem);
  }

  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) ++at_;
  }

  bool consume(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  Json parse_value(int depth) {
    if (depth > kMaxDepth) fail_here("nested deeper than 256 levels");
    skip_space();
    if (at_ >= text_.size()) fail_here("the document ends where a value was expected");
    Json value;
    const char c = text_[at_];
    if (c == '{') {
      value.kind_ = Json::Kind::object;
      ++at_;
      skip_space();
      if (consume("}")) return value;
      while (true) {
        skip_space();
        if (at_ >= text_.size() || text_[at_] != '"') fail_here("an object's key must be a string");
        std::string key = parse_string();
        skip_space();
        if (!consume(":")) fail_here("':' expected after an object's key");
        value.object_.emplace_back(std::move(key), parse_value(depth + 1));
        skip_space();
        if (consume("}")) return value;
        if (!consume(",")) fail_here("',' or '}' expected in an object");
      }
    }
    if (c == '[') {
      value.kind_ = Json::Kind::array;
      ++at_;
      skip_space();
      if (consume("]")) return value;
      while (true) {
        value.array_.push_back(parse_value(depth + 1));
        skip_space();
        if (consume("]")) return value;
        if (!consume(",")) fail_here("',' or ']' expected in an array");
      }
    }
    if (c == '"') {
      value.kind_ = Json::Kind::string;
      value.string_ = parse_string();
      return value;
    }
    if (consume("true") || consume("false")) {
      value.kind_ = Json::Kind::boolean;
      value.boolean_ = text_[at_ - 1] == 'e' && text_[at_ - 2] == 'u';  // "true", not "false"
      return value;
    }
    if (consume("null")) return value;
    value.kind_ = Json::Kind::number;
    value.number_ = parse_number();
    return value;
  }

  double parse_number() {
    // The grammar checked first, so that strtod sees only what JSON allows (no "inf", no hex).
    const size_t start = at_;
    const auto digits = [&] {
      const size_t from = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ > from;
    };
    consume("-");
    if (consume("0")) {
    } else if (!digits()) {
      at_ = start;
      fail_here("a value was expected (a number, string, array, object, true, false or null)");
    }
    if (consume(".") && !digits()) fail_here("digits expected after a decimal point");
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (!consume("+")) consume("-");
      if (!digits()) fail_here("digits expected in an exponent");
    }
    const std::string number(text_.substr(start, at_ - start));
    const double value = std::strtod(number.c_str(), nullptr);
    if (!std::isfinite(value)) fail_here("the number " + number + " is out of range");
    return value;
  }

  uint32_t hex4() {
    if (at_ + 4 > text_.size()) fail_here("\\u needs four hexadecimal digits");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[at_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') code |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') code |= static_cast<uint32_t>(h - 'A' + 10);
      else fail_here("\\u needs four hexadecimal digits");
    }
    return code;
  }

  static void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string parse_string() {
    ++at_;  // the opening quote
    std::string out;
    while (true) {
      if (at_ >= text_.size()) fail_here("a string is not closed");
      const char c = text_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --at_;
        fail_here("a control character inside a string (write it as an escape)");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) fail_here("a string is not closed");
      const char e = text_[at_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t code = hex4();
          if (code >= 0xD800 && code < 0xDC00) {  // a high surrogate: its low half must follow
            if (!consume("\\u")) fail_here("a lone UTF-16 surrogate in \\u escapes");
            const uint32_t low = hex4();
            if (low < 0xDC00 || low >= 0xE000) fail_here("a lone UTF-16 surrogate in \\u escapes");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code < 0xE000) {
            fail_here("a lone UTF-16 surrogate in \\u escapes");
          }
          append_utf8(out, code);
          break;
        }
        default: --at_; fail_here(std::string("an unknown escape \\") + e);
      }
    }
  }

  std::string_view text_;
  const std::string& what_;
  size_t at_ = 0;
};

Json Json::parse(std::string_view text, const std::string& what) { return JsonParser(text, what).document(); }

namespace {

[[noreturn]] void wrong_kind(const std::string& what, Json::Kind want, Json::Kind got) {
  fail("{} must be {}, not {}", what, json_kind_name(want), json_kind_name(got));
}

}  // namespace

bool Json::boolean(const std::string& what) const {
  if (kind_ != Kind::boolean) wrong_kind(what, Kind::boolean, kind_);
  return boolean_;
}

double Json::number(const std::string& what) const {
  if (kind_ != Kind::number) wrong_kind(what, Kind::number, kind_);
  return number_;
}

int64_t Json::integer(const std::string& what) const {
  const double n = number(what);
  constexpr double kExact = 9007199254740992.0;  // 2^53: every integer up to it is a double
  HEED_CHECK(n == std::floor(n) && std::fabs(n) <= kExact, "{} must be a whole number, not {}", what, n);
  return static_cast<int64_t>(n);
}

const std::string& Json::string(const std::string& what) const {
  if (kind_ != Kind::string) wrong_kind(what, Kind::string, kind_);
  return string_;
}

const std::vector<Json>& Json::array(const std::string& what) const {
  if (kind_ != Kind::array) wrong_kind(what, Kind::array, kind_);
  return array_;
}

const std::vector<Json::Member>& Json::object(const std::string& what) const {
  if (kind_ != Kind::object) wrong_kind(what, Kind::object, kind_);
  return object_;
}

const Json* Json::find(std::string_view key) const {
  for (const Member& member : object_)
    if (member.first == key) return &member.second;
  return nullptr;
}

}  // namespace heed
