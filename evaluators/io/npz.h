// .npz archives (a zip of .npy files, stored or deflated), as numpy.savez writes them.
#pragma once

#include <map>
#include <string>

#include "evaluators/io/npy.h"

namespace hwnas {

/// Reads every member of a .npz archive; keys drop the ".npy" suffix ("stage0").
/// Supports stored and deflate members (zlib) without zip64. Throws hwnas::Error naming the
/// file and member for a missing file, a corrupt archive or a member read_npy rejects.
std::map<std::string, NpyArray> read_npz(const std::string& path);

}  // namespace hwnas
