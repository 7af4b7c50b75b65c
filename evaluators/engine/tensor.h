// Tensor: the engine's one activation type, NHWC fp32 in 64-byte aligned memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace hwnas {

/// A 4-d NHWC fp32 tensor (batch, height, width, channels), C contiguous, channels fastest.
/// Owning tensors hold 64-byte aligned memory (cache line and AVX-512 width); views borrow
/// memory owned elsewhere and never free it. Token sequences (B, N, C) are stored as (B, 1, N, C)
/// or (B, h, w, C): the memory order is the same.
/// Copying an owning tensor copies its data; copying a view copies the view.
class Tensor {
 public:
  Tensor() = default;
  /// Owning, zero-filled. Throws hwnas::Error if a dimension is negative.
  Tensor(int n, int h, int w, int c);
  /// A view of `data` (not owned; must outlive the view and hold n*h*w*c floats).
  static Tensor view(float* data, int n, int h, int w, int c);
  /// Read-only view; the caller promises not to write through it.
  static Tensor view(const float* data, int n, int h, int w, int c) {
    return view(const_cast<float*>(data), n, h, w, c);
  }

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept = default;
  Tensor& operator=(Tensor&& other) noexcept = default;
  ~Tensor() = default;

  /// Reshapes an owning tensor, reallocating only when the new size exceeds the capacity
  /// (so repeated forwards at one batch size do not allocate). Contents are unspecified after
  /// a size change. Throws hwnas::Error on a view whose size would change.
  void resize(int n, int h, int w, int c);
  /// Same memory, new dimensions (element count must match). Throws hwnas::Error otherwise.
  Tensor reshaped(int n, int h, int w, int c) const;

  int n() const { return n_; }
  int h() const { return h_; }
  int w() const { return w_; }
  int c() const { return c_; }
  /// Number of floats.
  std::size_t size() const { return static_cast<std::size_t>(n_) * h_ * w_ * c_; }
  bool empty() const { return size() == 0; }
  bool owning() const { return static_cast<bool>(storage_); }

  float* data() { return data_; }
  const float* data() const { return data_; }
  float& at(int b, int y, int x, int ch) { return data_[index(b, y, x, ch)]; }
  float at(int b, int y, int x, int ch) const { return data_[index(b, y, x, ch)]; }
  std::size_t index(int b, int y, int x, int ch) const {
    return ((static_cast<std::size_t>(b) * h_ + y) * w_ + x) * c_ + ch;
  }

 private:
  struct FreeDeleter {
    void operator()(float* p) const noexcept;
  };
  std::unique_ptr<float[], FreeDeleter> storage_;
  std::size_t capacity_ = 0;
  float* data_ = nullptr;
  int n_ = 0, h_ = 0, w_ = 0, c_ = 0;
};

/// Bytes the calling thread has allocated for owning tensors and AlignedBuffers since it
/// started (a running total, never decreased by frees). The difference around a call is what
/// that call allocated in engine buffers, e.g. the buffers a Block holds after Block::reserve.
std::int64_t tensor_bytes_allocated_by_this_thread();

/// Byte alignment of owning tensors and of the engine's weight buffers.
inline constexpr std::size_t kTensorAlignment = 64;

/// 64-byte aligned float buffer for weights and scratch (owning, zero-filled, movable).
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count);
  AlignedBuffer(const AlignedBuffer& other);
  AlignedBuffer& operator=(const AlignedBuffer& other);
  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;

  float* data() { return t_.data(); }
  const float* data() const { return t_.data(); }
  std::size_t size() const { return t_.size(); }
  float& operator[](std::size_t i) { return t_.data()[i]; }
  float operator[](std::size_t i) const { return t_.data()[i]; }

 private:
  Tensor t_;
};

}  // namespace hwnas
