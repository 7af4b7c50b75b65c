#include "evaluators/ops/dnnl_context.h"

#include <string>

#include "core/error.h"

namespace hwnas {

dnnl::engine& dnnl_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_thread_stream() {
  thread_local dnnl::stream stream(dnnl_cpu_engine());
  return stream;
}

void rethrow_dnnl(const dnnl::error& e, const char* what) {
  throw Error(std::string("oneDNN ") + what + ": " + e.what());
}

void append_activation(dnnl::post_ops& ops, Activation act) {
  switch (act) {
    case Activation::none:
      return;
    case Activation::relu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      return;
    case Activation::gelu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
      return;
    case Activation::hardswish:
      // oneDNN 2.x computes x * relu6(x + 3) / 6 and ignores alpha and beta; 3.x reads them as
      // the 1/6 and 1/2 of x * min(max(x / 6 + 1/2, 0), 1), so both versions get the same op.
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_hardswish, 1.0f / 6.0f, 0.5f);
      return;
  }
}

const char* dnnl_isa_name() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::avx512_core_amx:
      return "avx512_core_amx";
    case isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case isa::avx512_core:
      return "avx512_core";
    case isa::avx2_vnni:
      return "avx2_vnni";
    case isa::avx2:
      return "avx2";
    case isa::avx:
      return "avx";
    case isa::sse41:
      return "sse41";
    default:
      return "other";
  }
}

}  // namespace hwnas
