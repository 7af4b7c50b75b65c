#include "evaluators/ops/gemm.h"

#include <algorithm>
#include <vector>

namespace hwnas {

void gemm_reference(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                    int ldc, const GemmEpilogue& ep) {
  std::vector<double> row(static_cast<std::size_t>(std::max(n, 0)));
  for (int i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int p = 0; p < k; ++p) {
      const double av = a[static_cast<long>(i) * lda + p];
      const float* brow = b + static_cast<long>(p) * ldb;
      for (int j = 0; j < n; ++j) row[j] += av * brow[j];
    }
    float* crow = c + static_cast<long>(i) * ldc;
    for (int j = 0; j < n; ++j) {
      double v = row[j] + (ep.bias ? ep.bias[j] : 0.0);
      float f = static_cast<float>(v);
      apply_activation_reference(ep.act, &f, 1);
      if (ep.residual)
        f = static_cast<float>(static_cast<double>(f) +
                               ep.residual[static_cast<long>(i) * ep.ldr + j]);
      crow[j] = f;
    }
  }
}

}  // namespace hwnas
