// Happens-before edges that ThreadSanitizer cannot see for itself: Debian's gRPC (and the
// abseil it synchronises with) is not instrumented, so an order gRPC guarantees, such as
// "StartRead happens before OnReadDone" or "Finish and every reaction happen before OnDone",
// looks like no order at all. Code that relies on such a guarantee states it with these, at
// the two ends of the edge, on one address. Outside TSan builds they compile to nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace faultline {

// The end of the edge this thread starts (before handing work to gRPC, at a reaction's end).
inline void tsan_release(void* addr) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(addr);
#else
  (void)addr;
#endif
}

// The end of the edge this thread receives (at a reaction's start).
inline void tsan_acquire(void* addr) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(addr);
#else
  (void)addr;
#endif
}

}  // namespace faultline
