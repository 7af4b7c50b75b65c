#pragma once
// Eigen's dense module (and erf, from the unsupported SpecialFunctions module), included with
// one GCC 12 false positive silenced. Include this header instead of <Eigen/...> directly, and
// before any other header that may pull in <immintrin.h>.
//
// Why: GCC 12's AVX-512 intrinsics build their "undefined" operand as `__m512 __Y = __Y;`
// (_mm512_undefined_ps in avx512fintrin.h), so every masked AVX-512 intrinsic that Eigen's packet
// math inlines (pmin, pmax, erf, ...) reports -Wmaybe-uninitialized at -O3 with -march=native:
// about 800 warnings in a build. GCC bug 105593, fixed in GCC 13. GCC files the warning under
// avx512fintrin.h's own lines, so it is silenced exactly for the text of that header (and
// Eigen's), which is first read here, and for nothing else.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <Eigen/Dense>
#include <unsupported/Eigen/SpecialFunctions>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
