// The oneDNN engine and streams every oneDNN-backed operator of the engine shares.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "evaluators/ops/activation.h"

namespace hwnas {

/// The process's one oneDNN CPU engine (created on first use).
dnnl::engine& dnnl_cpu_engine();
/// The calling thread's stream: oneDNN streams are not meant to be shared between threads.
dnnl::stream& dnnl_thread_stream();
/// Throws hwnas::Error "oneDNN <what>: <message>" for a oneDNN failure.
[[noreturn]] void rethrow_dnnl(const dnnl::error& e, const char* what);
/// Appends `act` to `ops` as oneDNN's eltwise post-op (nothing for Activation::none), with the
/// engine's definitions: GELU is the erf form, Hardswish x * relu6(x + 3) / 6.
void append_activation(dnnl::post_ops& ops, Activation act);
/// The instruction set oneDNN dispatches its JIT kernels to on this CPU, in oneDNN's words
/// ("avx512_core_amx", "avx512_core_vnni", "avx2_vnni", "avx512_core", "avx2", ...).
const char* dnnl_isa_name();

}  // namespace hwnas
