#include "core/line_process.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"

namespace hwnas {
namespace {

std::string shorten(const std::string& s, std::size_t n = 300) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

}  // namespace

LineProcess::LineProcess(std::string command, std::string label, double timeout_s)
    : command_(std::move(command)), label_(std::move(label)), timeout_s_(timeout_s) {
  if (!(timeout_s_ > 0)) throw Error(label_ + ": the timeout must be > 0 s");
  char tmpl[] = "/tmp/hwnas-external-stderr-XXXXXX";
  const int err_fd = mkstemp(tmpl);
  if (err_fd < 0) throw Error(label_ + ": cannot create a temporary file for its stderr");
  // Unlinked at once: the file lives as long as the descriptors, so nothing is left behind
  // even if hwnas is killed.
  unlink(tmpl);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    close(err_fd);
    throw Error(label_ + ": socketpair failed: " + std::string(std::strerror(errno)));
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls follow.
  const char* shell = "/bin/sh";
  const char* cmd = command_.c_str();
  pid_ = fork();
  if (pid_ < 0) {
    close(sv[0]);
    close(sv[1]);
    close(err_fd);
    throw Error(label_ + ": fork failed: " + std::string(std::strerror(errno)));
  }
  if (pid_ == 0) {
    dup2(sv[1], 0);
    dup2(sv[1], 1);
    dup2(err_fd, 2);
    execl(shell, "sh", "-c", cmd, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(sv[1]);
  stderr_fd_ = err_fd;
  fd_ = sv[0];
}

LineProcess::~LineProcess() {
  stop(500);
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

void LineProcess::stop(int grace_ms) {
  if (fd_ >= 0) {
    shutdown(fd_, SHUT_RDWR);  // EOF on CMD's stdin asks it to finish
    close(fd_);
    fd_ = -1;
  }
  if (pid_ > 0) {
    int status = 0;
    for (int i = 0; i < grace_ms / 10; ++i) {  // time to exit on its own
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

std::string LineProcess::stderr_tail() const {
  std::string s;
  char buf[4096];
  off_t offset = 0;
  ssize_t got;
  while (stderr_fd_ >= 0 && (got = pread(stderr_fd_, buf, sizeof buf, offset)) > 0) {
    s.append(buf, static_cast<std::size_t>(got));
    offset += got;
    if (s.size() > (1u << 20)) s.erase(0, s.size() - 4096);  // keep only the end
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() > 600) s = "..." + s.substr(s.size() - 600);
  return s.empty() ? "(nothing on stderr)" : s;
}

void LineProcess::fail(const std::string& what) {
  broken_ = true;
  // Give a crashing CMD a moment to finish (and to finish writing its stderr) before quoting it.
  std::string status_text;
  if (pid_ > 0) {
    int status = 0;
    for (int i = 0; i < 20; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (WIFEXITED(status))
          status_text = " (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
        if (WIFSIGNALED(status))
          status_text = " (killed by signal " + std::to_string(WTERMSIG(status)) + ")";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  const std::string tail = stderr_tail();
  stop(0);  // broken: no grace
  throw Error(label_ + " '" + command_ + "' " + what + status_text +
              "; its stderr ends with: " + tail);
}

std::string LineProcess::read_line() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
  while (true) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      fail("did not answer within " + std::to_string(timeout_s_) +
           " s (does it flush stdout after each line? e.g. python3 -u)");
    pollfd p{fd_, POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("could not be read: " + std::string(std::strerror(errno)));
    if (r == 0) continue;
    char chunk[4096];
    const ssize_t got = recv(fd_, chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (!buffer_.empty())
        fail("exited after printing an incomplete line '" + shorten(buffer_) + "'");
      fail("exited before answering");
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

std::string LineProcess::request(const std::string& line) {
  if (broken_ || fd_ < 0)
    throw Error(label_ + " '" + command_ + "' failed earlier and is no longer running");
  const std::string text = line + "\n";
  std::size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t w = send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("stopped reading its stdin");
    sent += static_cast<std::size_t>(w);
  }
  return read_line();
}

}  // namespace hwnas
