#pragma once
// TERN_CHECK is for true invariants of Tern's own code: if one fails the process logs and
// aborts, in every build. Never use it on what a client or a disk can do (STYLE.md habit 5);
// those are errors returned as result<T>.

#include <cstdio>
#include <cstdlib>

#define TERN_CHECK(cond)                                                                    \
  do {                                                                                      \
    if (!(cond)) [[unlikely]] {                                                             \
      std::fprintf(stderr, "tern: invariant failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

#ifdef NDEBUG
#define TERN_DCHECK(cond) ((void)0)
#else
#define TERN_DCHECK(cond) TERN_CHECK(cond)
#endif
