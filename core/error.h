// Error types shared by every hwnas layer.
#pragma once

#include <stdexcept>
#include <string>

namespace hwnas {

/// Bad input from the user (unknown space, malformed JSON, missing file or table row, ...).
/// The message names the offending input and how to fix it; the CLI prints
/// `error: <message>` and exits with code 2. Anything else that escapes is an internal
/// failure (exit code 1).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace hwnas
