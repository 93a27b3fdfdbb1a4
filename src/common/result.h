// An expected-style result for fallible operations at module boundaries.
// C++20 has no std::expected, and throwing across the engine's threads would lose
// the error's kind; a typed Error travels intact to the journal and the exit code.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace faultline {

enum class ErrorCode {
  kInvalidArgument,   // bad input from a user: experiment, flag, selector
  kNotFound,          // a target, run or injector that does not exist
  kPermissionDenied,  // a guard rail or policy refused the action
  kUnavailable,       // a peer could not be reached
  kFailedPrecondition,
  kInternal,
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace faultline
