// The skip rules for tests that run int8: where the CPU or build has neither hwnas's AVX2
// kernels nor oneDNN's VNNI / AMX int8 is refused (require_int8_cpu), and a test of the AVX2
// kernels themselves needs a build with AVX2. The test has nothing to check and says why, in
// the words scripts/check_skips.py allows.
#pragma once

#include <gtest/gtest.h>

#include "evaluators/quant/int8_gemm.h"
#include "evaluators/quant/int8_gemm_pairs.h"

/// Skips the calling test where int8 is refused (no AVX2, VNNI or AMX).
#define HWNAS_SKIP_WITHOUT_INT8() \
  if (!::hwnas::int8_supported()) \
  GTEST_SKIP() << "no AVX2, VNNI or AMX on this CPU: int8 is refused"
/// Skips the calling test where the build has no AVX2 int8 kernels (int8_pairs_available()).
#define HWNAS_SKIP_WITHOUT_INT8_PAIRS() \
  if (!::hwnas::int8_pairs_available()) \
  GTEST_SKIP() << "no AVX2 in this build: hwnas's int8 kernels do not run"
