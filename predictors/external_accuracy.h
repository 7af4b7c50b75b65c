// ExternalAccuracy: accuracy from a user's command (e.g. a PyTorch evaluator) over JSON lines.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/line_process.h"
#include "predictors/accuracy_predictor.h"
#include "spaces/search_space.h"

namespace hwnas {

struct ExternalAccuracyOptions {
  std::string command;     ///< shell command line, run with /bin/sh -c
  double timeout_s = 120;  ///< longest wait for one answer, seconds
};

/// Starts `command` once (fork/exec of /bin/sh -c, its stdin and stdout on a Unix socket pair,
/// its stderr kept in an unlinked temporary file) and speaks JSON lines with it:
///   hwnas -> CMD: {"id": n, "arch": <SearchSpace::to_json(arch)>}
///   CMD -> hwnas: {"id": n, "accuracy": x}      (or {"id": n, "error": "message"})
/// one request at a time. CMD must flush after each line (python3 -u, or flush=True).
/// When CMD exits, prints a line that is not such an answer, answers an error, or does not
/// answer within timeout_s, predict() throws hwnas::EvaluationFailure naming CMD and the arch
/// and quoting what it printed (the line, or the end of its stderr): the search records that
/// arch as failed (search/problem.h). The process is stopped and the next call starts CMD
/// anew. Answers and failures are remembered per arch, so asking again (Problem retries a
/// failed batch one arch at a time) neither runs CMD twice for one arch nor gives a failed arch
/// a second chance that its batch neighbours did not get.
class ExternalAccuracy final : public AccuracyPredictor {
 public:
  /// Starts CMD. Throws hwnas::Error if it cannot be started.
  ExternalAccuracy(const SearchSpace& space, ExternalAccuracyOptions options);
  ~ExternalAccuracy() override;
  ExternalAccuracy(const ExternalAccuracy&) = delete;
  ExternalAccuracy& operator=(const ExternalAccuracy&) = delete;

  std::vector<double> predict(const std::vector<Arch>& archs) override;
  std::string source() const override { return "external:" + options_.command; }

 private:
  const SearchSpace& space_;
  ExternalAccuracyOptions options_;
  std::unique_ptr<LineProcess> process_;
  std::map<std::vector<int>, double> answered_;     // genes -> accuracy
  std::map<std::vector<int>, std::string> failed_;  // genes -> EvaluationFailure message
  long next_id_ = 0;
};

/// Parses CMD's reply `line` (without its newline) to request `id` and returns the accuracy.
/// Throws hwnas::Error saying what is wrong, quoting at most 300 characters of the line: not a
/// JSON object, a wrong or missing id, an {"error": ...} answer, or no numeric accuracy. The
/// message starts with a verb ("printed ...", "answered ...", "reported ...") so that a caller
/// can prefix the command's name.
double parse_external_reply(const std::string& line, long id);

}  // namespace hwnas
