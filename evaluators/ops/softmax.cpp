#include "evaluators/ops/softmax.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "evaluators/ops/eigen.h"

namespace hwnas {

void softmax_rows(float* x, int rows, int cols, int ld) {
#if HWNAS_REFERENCE_KERNELS
  softmax_rows_reference(x, rows, cols, ld);
#else
  // Eigen's packet exp (16 lanes under AVX-512, about 1 ulp) rather than libm's scalar expf:
  // the exponentials were 7-9 % of ElasticViT-T1's forward pass (bench/README.md, "Softmax").
  // Each row goes through a 64-byte-aligned copy padded to whole packets, so that Eigen takes
  // the same packet path for every element and the same summation order whatever the row's
  // address: on an unaligned row it peels a head with scalar expf, and two calls on equal
  // logits at different addresses would differ in the last bit.
  thread_local std::vector<float, Eigen::aligned_allocator<float> > scratch;
  const int padded = (cols + 15) / 16 * 16;
  if (scratch.size() < static_cast<std::size_t>(padded)) scratch.resize(padded);
  Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64> work(scratch.data(), padded);
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<long>(r) * ld;
    const Eigen::Map<Eigen::ArrayXf> in(row, cols);
    const float mx = in.maxCoeff();
    work.head(cols) = in - mx;
    work.tail(padded - cols).setZero();  // exp(0): finite, and not summed
    work = work.exp();
    const float inv =
        1.0f / Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64>(scratch.data(), cols).sum();
    for (int j = 0; j < cols; ++j) row[j] = scratch[j] * inv;
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
