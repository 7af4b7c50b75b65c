// A long-lived child process spoken to in lines (JSON lines, usually): hwnas writes one request
// line to its stdin and reads one answer line from its stdout, within a timeout. What an
// external: accuracy command and the ONNX Runtime worker share. The child's stdin and stdout are
// one Unix socket pair; its stderr goes to an unlinked temporary file that error messages quote.
#pragma once

#include <sys/types.h>

#include <string>

namespace hwnas {

class LineProcess {
 public:
  /// Starts `command` with /bin/sh -c. `label` names it in errors ("external accuracy command",
  /// "ONNX Runtime worker"). Throws hwnas::Error if it cannot be started or timeout_s <= 0.
  LineProcess(std::string command, std::string label, double timeout_s);
  /// EOF on its stdin, up to 500 ms to exit, then SIGKILL.
  ~LineProcess();
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;

  /// Sends `line` (a newline is added) and returns the next line it prints. Throws
  /// hwnas::Error, "<label> '<command>' <what> (exit status N); its stderr ends with: ...", when
  /// it stopped reading, exited, printed an incomplete line, or did not answer within the
  /// timeout; the process is then stopped and every later call throws.
  std::string request(const std::string& line);

  /// Stops the process with `what` as the reason and throws the error request() would (for
  /// an answer the caller finds malformed).
  [[noreturn]] void fail(const std::string& what);

  const std::string& command() const { return command_; }
  /// True after a failure: the process is gone.
  bool broken() const { return broken_; }

 private:
  std::string stderr_tail() const;
  std::string read_line();
  void stop(int grace_ms);

  std::string command_, label_;
  double timeout_s_;
  pid_t pid_ = -1;
  int fd_ = -1;
  int stderr_fd_ = -1;
  std::string buffer_;
  bool broken_ = false;
};

}  // namespace hwnas
