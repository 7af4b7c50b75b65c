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

/// One candidate's evaluation failed while the run itself is sound: an external: command
/// crashed, hung past its timeout or answered an error for that architecture, or an MPI worker
/// rank did not answer within --eval-timeout. A search records it as a failed evaluation
/// (search/evaluation.h) and goes on, up to --max-failures; elsewhere it is an Error like any.
/// Follows Dakota's failure capture: the evaluation is marked failed, not retried in place.
class EvaluationFailure : public Error {
 public:
  using Error::Error;
};

}  // namespace hwnas
