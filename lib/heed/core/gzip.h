#pragma once
// Text files compressed with gzip (corpora are shipped so: `train.en.gz`), read whole. Detected
// by their first bytes rather than their name, so that `<(cat corpus.gz)` works as the file does.

#include <string>
#include <string_view>

namespace heed {

// Whether `bytes` start as a gzip file does (RFC 1952: 1f 8b, deflate).
bool looks_gzipped(std::string_view bytes);

// The uncompressed contents of a gzip file, every member of it (`cat a.gz b.gz` is one file of
// both). `what` names the file in errors: a damaged or truncated stream, or trailing bytes that
// are not gzip.
std::string gunzip(std::string_view compressed, const std::string& what);

// `bytes` themselves, or their uncompressed contents if they are gzipped.
std::string text_of(std::string bytes, const std::string& what);

}  // namespace heed
