#include "heed/align/word_links.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace heed {

WordPieces encode_words(const Vocabulary& vocabulary, std::string_view text) {
  WordPieces out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    if (end == i) break;
    for (int32_t piece : vocabulary.encode(text.substr(i, end - i))) {
      out.pieces.push_back(piece);
      out.word_of_piece.push_back(out.words);
    }
    ++out.words;
    out.texts.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

AttentionMatrix words_from_pieces(const AttentionMatrix& pieces, const WordPieces& source, const WordPieces& target) {
  AttentionMatrix words{target.words, source.words, std::vector<float>(static_cast<size_t>(target.words) * source.words, 0.0f)};
  std::vector<int32_t> pieces_per_word(static_cast<size_t>(target.words), 0);
  for (int32_t t = 0; t < pieces.rows; ++t) {
    const int32_t tw = target.word_of_piece[static_cast<size_t>(t)];
    ++pieces_per_word[static_cast<size_t>(tw)];
    for (int32_t s = 0; s < pieces.cols; ++s) words.at(tw, source.word_of_piece[static_cast<size_t>(s)]) += pieces.at(t, s);
  }
  for (int32_t tw = 0; tw < words.rows; ++tw)
    if (pieces_per_word[static_cast<size_t>(tw)] > 1)
      for (int32_t sw = 0; sw < words.cols; ++sw) words.at(tw, sw) /= static_cast<float>(pieces_per_word[static_cast<size_t>(tw)]);
  return words;
}

std::vector<Link> symmetrize(const std::vector<Link>& a, const std::vector<Link>& b, int32_t source_words,
                             int32_t target_words, Symmetrization how) {
  const std::set<Link> first(a.begin(), a.end()), second(b.begin(), b.end());
  std::set<Link> both, either(first);
  either.insert(second.begin(), second.end());
  for (const Link& l : first)
    if (second.count(l)) both.insert(l);
  if (how == Symmetrization::intersection) return {both.begin(), both.end()};
  if (how == Symmetrization::union_) return {either.begin(), either.end()};

  std::set<Link> links = both;
  std::vector<bool> source_aligned(static_cast<size_t>(source_words), false), target_aligned(static_cast<size_t>(target_words), false);
  for (const Link& l : links) source_aligned[static_cast<size_t>(l.first)] = target_aligned[static_cast<size_t>(l.second)] = true;
  const auto add = [&](const Link& l) {
    links.insert(l);
    source_aligned[static_cast<size_t>(l.first)] = target_aligned[static_cast<size_t>(l.second)] = true;
  };
  // grow-diag: neighbours (diagonals included) of links found so far, from the union, while
  // they align a word that has no link yet.
  for (bool grew = true; grew;) {
    grew = false;
    const std::vector<Link> found(links.begin(), links.end());  // add() grows `links` while we walk
    for (const Link& link : found)
      for (int di = -1; di <= 1; ++di)
        for (int dj = -1; dj <= 1; ++dj) {
          const Link n{link.first + di, link.second + dj};
          if ((di == 0 && dj == 0) || n.first < 0 || n.second < 0 || n.first >= source_words || n.second >= target_words) continue;
          if (!either.count(n) || links.count(n)) continue;
          if (!source_aligned[static_cast<size_t>(n.first)] || !target_aligned[static_cast<size_t>(n.second)]) {
            add(n);
            grew = true;
          }
        }
  }
  if (how == Symmetrization::grow_diag_final_and) {
    // final-and: a link of either direction whose two words are both still unaligned.
    for (const std::set<Link>* direction : {&first, &second})
      for (const Link& l : *direction)
        if (!source_aligned[static_cast<size_t>(l.first)] && !target_aligned[static_cast<size_t>(l.second)]) add(l);
  }
  return {links.begin(), links.end()};
}

std::vector<Link> extract_links(const AttentionMatrix& words, Symmetrization how, float threshold) {
  std::vector<Link> rows, cols;
  for (int32_t t = 0; t < words.rows; ++t) {
    int32_t best = -1;
    for (int32_t s = 0; s < words.cols; ++s)
      if (best < 0 || words.at(t, s) > words.at(t, best)) best = s;
    if (best >= 0 && words.at(t, best) >= threshold) rows.emplace_back(best, t);
  }
  for (int32_t s = 0; s < words.cols; ++s) {
    int32_t best = -1;
    for (int32_t t = 0; t < words.rows; ++t)
      if (best < 0 || words.at(t, s) > words.at(best, s)) best = t;
    if (best >= 0 && words.at(best, s) >= threshold) cols.emplace_back(s, best);
  }
  return symmetrize(rows, cols, words.cols, words.rows, how);
}

std::string pharaoh(const std::vector<Link>& links) {
  std::string out;
  for (const Link& l : links) out += fmt::format("{}{}-{}", out.empty() ? "" : " ", l.first, l.second);
  return out;
}

}  // namespace heed
