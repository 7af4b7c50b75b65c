#include "evaluators/runtime/denormals.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HWNAS_HAS_MXCSR 1
#endif

namespace hwnas {
namespace {
#ifdef HWNAS_HAS_MXCSR
constexpr unsigned kFtzDaz = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
#endif
}  // namespace

FlushDenormals::FlushDenormals() : previous_(0) {
#ifdef HWNAS_HAS_MXCSR
  previous_ = _mm_getcsr();
  _mm_setcsr(previous_ | kFtzDaz);
#endif
}

FlushDenormals::~FlushDenormals() {
#ifdef HWNAS_HAS_MXCSR
  _mm_setcsr(previous_);
#endif
}

void flush_denormals_on_this_thread() {
#ifdef HWNAS_HAS_MXCSR
  _mm_setcsr(_mm_getcsr() | kFtzDaz);
#endif
}

}  // namespace hwnas
