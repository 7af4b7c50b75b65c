// Prints the build's git hash (core/build_id.h); tests/install/build_id_test.sh rebuilds it after
// a commit.
#include <cstdio>

#include "core/build_id.h"

int main() {
  std::printf("%s\n", hwnas::build_git_hash());
  return 0;
}
