#include "evaluators/ops/linear.h"

#include "core/error.h"
#include "evaluators/ops/gemm.h"

namespace hwnas {

namespace {
GemmEpilogue make_epilogue(const LinearParams& p, const float* bias, const Tensor* residual,
                           const Tensor& out) {
  if (residual && residual->size() != out.size())
    throw Error("linear: residual must have the output's shape");
  return GemmEpilogue{bias, p.act, residual ? residual->data() : nullptr, p.out};
}
}  // namespace

void linear(const LinearParams& p, const Tensor& in, const PackedWeights& weight, const float* bias,
            const Tensor* residual, Tensor& out) {
  validate(p, in, out);
  if (weight.k() != p.in || weight.n() != p.out)
    throw Error("linear: packed weights are " + std::to_string(weight.k()) + "x" +
                std::to_string(weight.n()) + ", expected " + std::to_string(p.in) + "x" +
                std::to_string(p.out));
  const GemmEpilogue ep = make_epilogue(p, bias, residual, out);
  const int m = static_cast<int>(in.size() / static_cast<std::size_t>(p.in));
  gemm_packed(m, in.data(), p.in, weight, out.data(), p.out, ep);
}

void linear_reference(const LinearParams& p, const Tensor& in, const float* weight,
                      const float* bias, const Tensor* residual, Tensor& out) {
  validate(p, in, out);
  const GemmEpilogue ep = make_epilogue(p, bias, residual, out);
  const int m = static_cast<int>(in.size() / static_cast<std::size_t>(p.in));
  gemm_reference(m, p.out, p.in, in.data(), p.in, weight, p.out, out.data(), p.out, ep);
}

}  // namespace hwnas
