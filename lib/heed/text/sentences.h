#pragma once
// Sentence splitting for translation: a line (a paragraph, two subtitle lines joined, an e-mail)
// is cut into the sentences the models were trained on, so that none of them is dropped.
//
// A sentence ends at . ! ? or … (runs such as "?!" and "..." included), with the closing quotes
// and brackets after it, where white space or the line's end follows, unless
//   - the next word starts with a lowercase letter ("the U.S. government", „Komm!“ sagte er);
//   - the word before a full stop is an abbreviation of the language that never ends a sentence
//     (Dr., e.g., z.B., Mme), a single capital (initials: "J. Smith"), one that does so only before
//     a number (No. 5, Nr. 5, Jan. 5), or in German an ordinal before a month ("am 3. Oktober").
// Numbers ("3.5"), URLs and e-mail addresses hold no break: their full stops have no space after.
// CJK full stops (。！？) end a sentence without a space. French spacing (« Viens ! ») is allowed
// before ! ? … and closers.

#include <string_view>
#include <vector>

namespace heed {

// Which abbreviation list applies: one language's, or all of them (a word that abbreviates in any
// of these rarely ends a sentence in another).
enum class SentenceLanguage { any, en, de, fr };

// "en", "de" or "fr" (an ISO 639-1 code), "any"; throws naming `what` otherwise.
SentenceLanguage parse_sentence_language(std::string_view code, std::string_view what);

// The sentences of `text`, in order, each without the white space between it and the next; their
// concatenation with that white space is `text` less its leading and trailing white space.
std::vector<std::string_view> split_sentences(std::string_view text, SentenceLanguage language = SentenceLanguage::any);

}  // namespace heed
