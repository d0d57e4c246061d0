#pragma once
// Text placed in an HTML page (alignment pictures, the training report): & < > " escaped.

#include <string>
#include <string_view>

namespace heed {

std::string html_escape(std::string_view text);

}  // namespace heed
