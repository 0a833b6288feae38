#ifndef VENEER_CSCHEDULER_SHIM_H
#define VENEER_CSCHEDULER_SHIM_H

#include <stdint.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

// The calling thread's scheduling, through sched_setattr(2) and sched_getattr(2), which glibc before 2.41 does not
// wrap (and whose variadic syscall(2) Swift cannot call). The layout is the kernel's struct sched_attr, first
// version (48 bytes).
struct veneer_sched_attr {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime;
    uint64_t deadline;
    uint64_t period;
};

// Keeps the normal policy with `nice`, and asks for a slice of `slice_ns`: how long the thread runs before a thread
// that wakes on its core may take it. Linux 6.12 and later (EEVDF) honour it for normal threads, clamped to
// 0.1-100 ms; earlier kernels ignore it. Returns 0, or -1 where the call failed.
static inline int veneer_set_current_thread_slice(int32_t nice, uint64_t slice_ns) {
#if defined(__linux__) && defined(SYS_sched_setattr)
    struct veneer_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.nice = nice;
    attr.runtime = slice_ns;
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
#else
    (void)nice;
    (void)slice_ns;
    return -1;
#endif
}

// The calling thread's slice in nanoseconds (the kernel's default unless one was asked for), or 0 where unknown.
static inline uint64_t veneer_current_thread_slice(void) {
#if defined(__linux__) && defined(SYS_sched_getattr)
    struct veneer_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return 0;
    return attr.runtime;
#else
    return 0;
#endif
}

#endif
