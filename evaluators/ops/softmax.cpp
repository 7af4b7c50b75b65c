#include "evaluators/ops/softmax.h"

#include <algorithm>
#include <cmath>

namespace hwnas {

void softmax_rows(float* x, int rows, int cols, int ld) {
#if HWNAS_REFERENCE_KERNELS
  softmax_rows_reference(x, rows, cols, ld);
#else
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<long>(r) * ld;
    float mx = row[0];
    for (int j = 1; j < cols; ++j) mx = std::max(mx, row[j]);
    float sum = 0;
    for (int j = 0; j < cols; ++j) {
      row[j] = std::exp(row[j] - mx);
      sum += row[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < cols; ++j) row[j] *= inv;
  }
#endif
}

void softmax_rows_reference(float* x, int rows, int cols, int ld) {
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<long>(r) * ld;
    double mx = row[0];
    for (int j = 1; j < cols; ++j) mx = std::max<double>(mx, row[j]);
    double sum = 0;
    for (int j = 0; j < cols; ++j) sum += std::exp(static_cast<double>(row[j]) - mx);
    for (int j = 0; j < cols; ++j)
      row[j] = static_cast<float>(std::exp(static_cast<double>(row[j]) - mx) / sum);
  }
}

}  // namespace hwnas
