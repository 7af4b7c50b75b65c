// Writing a file so that readers never see half of it.
#pragma once

#include <string>

namespace hwnas {

/// Writes `bytes` to `path` through `path + ".tmp"` and a rename, so a crash or a full disk leaves
/// either the old file or none, never a partial one (the temporary is removed on failure).
/// Throws hwnas::Error naming the path: unwritable directory, write failure (disk full), rename.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace hwnas
