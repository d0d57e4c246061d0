#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  // The library logs warnings (skipped lines, long inputs) that tests provoke on purpose.
  spdlog::set_level(spdlog::level::err);
  return doctest::Context(argc, argv).run();
}
