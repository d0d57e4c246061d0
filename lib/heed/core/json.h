#pragma once
// Json: a JSON document (RFC 8259) parsed whole, for the files other tools write that heed reads:
// a Hugging Face model's config.json and vocab.json, a safetensors header. Strict: no comments,
// no trailing commas, no NaN; nesting bounded, so that a hostile file cannot exhaust the stack.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heed {

class Json {
 public:
  enum class Kind : uint8_t { null, boolean, number, string, array, object };
  using Member = std::pair<std::string, Json>;

  // `what` names the document in errors, which also give the line and column.
  static Json parse(std::string_view text, const std::string& what);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_number() const { return kind_ == Kind::number; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_object() const { return kind_ == Kind::object; }

  // The value as that kind; another kind throws, naming `what` (e.g. "config.json: d_model").
  bool boolean(const std::string& what) const;
  double number(const std::string& what) const;
  int64_t integer(const std::string& what) const;  // a number with no fraction, within ±2^53
  const std::string& string(const std::string& what) const;
  const std::vector<Json>& array(const std::string& what) const;
  const std::vector<Member>& object(const std::string& what) const;

  // An object's member, or nullptr (also when this is not an object).
  const Json* find(std::string_view key) const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool boolean_ = false;
  double number_ = 0.0;
  std::string string_;
  std::vector<Json> array_;
  std::vector<Member> object_;
};

const char* json_kind_name(Json::Kind kind);

}  // namespace heed
