#pragma once
// The part of YAML that Marian's files use: one mapping from keys to scalars or to lists of
// scalars (model.yml inside a model, decoder.yml, a vocabulary's `piece: id` lines). Scalars may
// be plain, 'single-' or "double-quoted" (with YAML's escapes); lists are block ("- item" lines)
// or flow ("[a, b]"). Anything else (a nested mapping, an anchor, a multi-line scalar) is refused,
// naming the line, rather than read wrongly.

#include <string>
#include <vector>

namespace heed {

struct YamlValue {
  std::string scalar;               // when !is_list
  std::vector<std::string> items;   // when is_list
  bool is_list = false;
};

class YamlMap {
 public:
  // `what` names the text in errors ("model.npz: special:model.yml").
  static YamlMap parse(const std::string& text, const std::string& what);

  const std::vector<std::pair<std::string, YamlValue>>& entries() const { return entries_; }
  const YamlValue* find(const std::string& key) const;
  // The scalar of `key`, or `otherwise` when it is absent; a list there throws.
  std::string scalar_or(const std::string& key, const std::string& otherwise) const;
  // The list of `key` (empty when absent); a scalar there throws.
  std::vector<std::string> list(const std::string& key) const;

 private:
  std::string what_;
  std::vector<std::pair<std::string, YamlValue>> entries_;
};

}  // namespace heed
