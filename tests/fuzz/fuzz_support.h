// Helpers shared by the fuzz targets: the parsers under test read files, so each input is
// written to a private scratch directory first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hwnas::fuzz {

/// A directory private to this process (under $TMPDIR, else /tmp), created on first use and
/// removed at exit. Throws std::runtime_error if it cannot be created: that is the harness's
/// failure, not the parser's, so it must not look like an accepted input.
const std::string& scratch_dir();

/// Writes `size` bytes to scratch_dir()/name (replacing it) and returns the path.
std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size);
std::string write_file(const std::string& name, std::string_view bytes);

/// True in the replay binary (replay_main.cpp calls set_replaying), false under libFuzzer: a
/// target may skip inputs that are merely slow under the sanitizers when it is fuzzing.
bool replaying();
void set_replaying();

/// The input as text (parsers of JSON and lines take strings).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace hwnas::fuzz
