#pragma once
// Eigen's dense module (and erf, from the unsupported SpecialFunctions module), included with
// one GCC 12 false positive silenced. Include this header instead of <Eigen/...> directly, and
// before any other header that may pull in <immintrin.h>.
//
// Why: Eigen's packet math inlines masked AVX-512 intrinsics (pmin, pmax, erf, ...), which
// trip GCC 12's false -Wmaybe-uninitialized in avx512fintrin.h (simd.h says why) and, inlined
// into Eigen's own templates, also report under Eigen's lines; both are silenced here, for the
// text of these headers only.
#include "evaluators/ops/simd.h"  // first: see simd.h

HWNAS_GCC105593_BEGIN
#include <Eigen/Dense>
#include <unsupported/Eigen/SpecialFunctions>
HWNAS_GCC105593_END
