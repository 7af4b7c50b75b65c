#include "evaluators/engine/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "core/error.h"

namespace hwnas {

namespace {

void check_dims(int n, int h, int w, int c) {
  if (n < 0 || h < 0 || w < 0 || c < 0)
    throw Error("tensor dimensions must be non-negative, got " + std::to_string(n) + "x" +
                std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c));
}

thread_local std::int64_t t_allocated_bytes = 0;

float* allocate(std::size_t count) {
  std::size_t bytes = count * sizeof(float);
  bytes = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (bytes == 0) bytes = kTensorAlignment;
  void* p = std::aligned_alloc(kTensorAlignment, bytes);
  if (!p) throw std::bad_alloc();
  t_allocated_bytes += static_cast<std::int64_t>(bytes);
  std::memset(p, 0, bytes);
  return static_cast<float*>(p);
}

}  // namespace

std::int64_t tensor_bytes_allocated_by_this_thread() { return t_allocated_bytes; }

void Tensor::FreeDeleter::operator()(float* p) const noexcept { std::free(p); }

Tensor::Tensor(int n, int h, int w, int c) : n_(n), h_(h), w_(w), c_(c) {
  check_dims(n, h, w, c);
  capacity_ = size();
  storage_.reset(allocate(capacity_));
  data_ = storage_.get();
}

Tensor Tensor::view(float* data, int n, int h, int w, int c) {
  check_dims(n, h, w, c);
  Tensor t;
  t.data_ = data;
  t.n_ = n;
  t.h_ = h;
  t.w_ = w;
  t.c_ = c;
  return t;
}

Tensor::Tensor(const Tensor& other) : n_(other.n_), h_(other.h_), w_(other.w_), c_(other.c_) {
  if (other.owning()) {
    capacity_ = size();
    storage_.reset(allocate(capacity_));
    data_ = storage_.get();
    if (size()) std::memcpy(data_, other.data_, size() * sizeof(float));
  } else {
    data_ = other.data_;
  }
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    Tensor copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void Tensor::resize(int n, int h, int w, int c) {
  check_dims(n, h, w, c);
  const std::size_t count = static_cast<std::size_t>(n) * h * w * c;
  if (!owning()) {
    if (count != size() && data_ != nullptr)
      throw Error("cannot resize a tensor view to a different element count");
    if (data_ == nullptr && count > 0) {
      capacity_ = count;
      storage_.reset(allocate(capacity_));
      data_ = storage_.get();
    }
  } else if (count > capacity_) {
    capacity_ = count;
    storage_.reset(allocate(capacity_));
    data_ = storage_.get();
  }
  n_ = n;
  h_ = h;
  w_ = w;
  c_ = c;
}

Tensor Tensor::reshaped(int n, int h, int w, int c) const {
  check_dims(n, h, w, c);
  if (static_cast<std::size_t>(n) * h * w * c != size())
    throw Error("tensor reshape changes the element count (" + std::to_string(size()) + ")");
  return view(data_, n, h, w, c);
}

AlignedBuffer::AlignedBuffer(std::size_t count) : t_(1, 1, 1, static_cast<int>(count)) {}
AlignedBuffer::AlignedBuffer(const AlignedBuffer& other) : t_(other.t_) {}
AlignedBuffer& AlignedBuffer::operator=(const AlignedBuffer& other) {
  t_ = other.t_;
  return *this;
}

}  // namespace hwnas
