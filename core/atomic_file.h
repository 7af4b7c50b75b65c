// Writing a file so that readers never see half of it.
#pragma once

#include <string>

namespace hwnas {

/// Writes `bytes` to `path` through `path + ".tmp"` and a rename, so a crash (even SIGKILL) or a
/// full disk leaves either the old file or the complete new one, never a partial one (the
/// temporary is removed on failure). Throws hwnas::Error naming the path, the system's reason
/// and the fix: unwritable directory, write failure (disk full, file size limit), rename.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace hwnas
