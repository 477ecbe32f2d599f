// Result<T, E>: a value of type T, or an error of type E (std::error_code unless said otherwise).
//
//   Result<void*> r = zap::zuma::reserve(1 << 20);
//   if (!r) return r.error();          // std::error_code
//   void* base = *r;
//
// zuma reports failures through Result (or a bare std::error_code when there is no value) and
// never throws on a failure path; the only exception that can escape zuma is std::bad_alloc.
// Reading value() of a Result that holds an error is a precondition violation (asserted in debug).
//
// This header lives in zuma for now; it is small and generic, and may move down to zync.
//
// Thread-safety: like any value type; concurrent const access is safe.
#pragma once

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace zap::zuma {

template <typename T, typename E = std::error_code>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, E>, "value and error types must differ");

 public:
  using ValueType = T;
  using ErrorType = E;

  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(E error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool has_value() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & noexcept { return *get(); }
  const T& value() const& noexcept { return *get(); }
  T&& value() && noexcept { return std::move(*get()); }

  T& operator*() & noexcept { return *get(); }
  const T& operator*() const& noexcept { return *get(); }
  T&& operator*() && noexcept { return std::move(*get()); }
  T* operator->() noexcept { return get(); }
  const T* operator->() const noexcept { return get(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? *get() : static_cast<T>(std::forward<U>(fallback));
  }

  // The error; precondition: !has_value().
  const E& error() const& noexcept {
    assert(!has_value());
    return *std::get_if<1>(&storage_);
  }

 private:
  T* get() noexcept {
    assert(has_value());
    return std::get_if<0>(&storage_);
  }
  const T* get() const noexcept {
    assert(has_value());
    return std::get_if<0>(&storage_);
  }

  std::variant<T, E> storage_;
};

}  // namespace zap::zuma
