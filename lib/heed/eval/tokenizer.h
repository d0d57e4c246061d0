#pragma once
// BLEU's tokenizers, as sacreBLEU 2.x defines them:
//   13a:  mteval-v13a (WMT's standard): ASCII punctuation split off, periods and commas kept
//         inside numbers
//   intl: mteval-v14's international form: Unicode punctuation and symbols split off
//   none: whitespace only

#include <string>
#include <string_view>

namespace heed {

enum class BleuTokenizer : uint8_t { none, t13a, intl };

std::string tokenize_for_bleu(std::string_view line, BleuTokenizer tokenizer);
BleuTokenizer parse_bleu_tokenizer(const std::string& name);
std::string to_string(BleuTokenizer tokenizer);

}  // namespace heed
