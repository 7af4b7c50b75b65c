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
