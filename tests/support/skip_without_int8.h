// One skip rule for every test that runs int8: where oneDNN has no VNNI or AMX, int8 is refused
// (require_int8_cpu), so the test has nothing to check and says why.
#pragma once

#include <gtest/gtest.h>

#include "evaluators/quant/int8_gemm.h"

/// Skips the calling test where int8 is refused (no VNNI / AMX on this CPU).
#define HWNAS_SKIP_WITHOUT_INT8() \
  if (!::hwnas::int8_supported()) GTEST_SKIP() << "no VNNI / AMX on this CPU: int8 is refused"
