#include "tests/fuzz/fuzz_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

namespace hwnas::fuzz {
namespace {

struct ScratchDir {
  std::string path;
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/hwnas-fuzz-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("fuzz harness: cannot create " + tmpl);
    path = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

bool replay_mode = false;

}  // namespace

bool replaying() { return replay_mode; }
void set_replaying() { replay_mode = true; }

const std::string& scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

std::string write_file(const std::string& name, std::string_view bytes) {
  const std::string path = scratch_dir() + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("fuzz harness: cannot write " + path);
  return path;
}

std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  return write_file(name, as_text(data, size));
}

}  // namespace hwnas::fuzz
