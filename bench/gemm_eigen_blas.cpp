// Eigen's product routed to the BLAS library (EIGEN_USE_BLAS). This macro changes every product
// in a translation unit, so it lives alone here and bench_gemm.cpp keeps Eigen's own kernels.
#define EIGEN_USE_BLAS
#include "evaluators/ops/eigen.h"

#include "bench/gemm_backends.h"

namespace hwnas::bench {

void gemm_eigen_blas(const GemmShape& s, const float* a, const float* b, float* c) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMajor> ma(a, s.m, s.k);
  Eigen::Map<const RowMajor> mb(b, s.k, s.n);
  Eigen::Map<RowMajor> mc(c, s.m, s.n);
  mc.noalias() = ma * mb;
}

}  // namespace hwnas::bench
