// Fuzz target: one reply line of an `external:CMD` accuracy command (predictors/
// external_accuracy.h), as read_line hands it over: up to the first newline, without a
// trailing '\r'. The request id is 3, as in the seeds.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "predictors/external_accuracy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string line(hwnas::fuzz::as_text(data, size));
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  try {
    (void)hwnas::parse_external_reply(line, 3);
  } catch (const hwnas::Error&) {
  }
  return 0;
}
