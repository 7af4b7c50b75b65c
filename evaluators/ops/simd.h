#pragma once
// x86 intrinsics (<immintrin.h>), included with one GCC 12 false positive silenced. Include
// this header instead of <immintrin.h>, and before any other header that may pull it in.
//
// Why: GCC 12's AVX-512 intrinsics build their "undefined" operand as `__m512 __Y = __Y;`
// (_mm512_undefined_ps in avx512fintrin.h), so every AVX-512 intrinsic with such an operand
// (min, max, cvtps, and the masked forms Eigen's packet math inlines) reports
// -Wmaybe-uninitialized at -O3 with -march=native (and -Wuninitialized, the same finding, in
// the -O2 ThreadSanitizer build). GCC bug 105593, fixed in GCC 13. GCC files
// the warning under avx512fintrin.h's own lines, so it is silenced exactly for the text of that
// header, which is first read here, and for nothing else. HWNAS_GCC105593_BEGIN / _END bracket
// another header that inlines them (eigen.h).
#if defined(__GNUC__) && !defined(__clang__)
#define HWNAS_GCC105593_BEGIN                                                                \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define HWNAS_GCC105593_END _Pragma("GCC diagnostic pop")
#else
#define HWNAS_GCC105593_BEGIN
#define HWNAS_GCC105593_END
#endif

HWNAS_GCC105593_BEGIN
#include <immintrin.h>
HWNAS_GCC105593_END
