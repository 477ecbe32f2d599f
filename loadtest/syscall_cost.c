/* What one system call costs on this machine: the price the peers' epoll loops pay two or three
 * times per request, and what io_uring's batching saves. Load-run ratios against plain epoll
 * depend on it (kernel page-table isolation, pti=on, makes it several times dearer), so the load
 * scripts print it beside their results. Prints the median of 5 runs of 200,000 getppid calls, in
 * nanoseconds per call. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double run_ns_per_call(long calls) {
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long i = 0; i < calls; ++i) syscall(SYS_getppid); /* not cached by libc, unlike getpid */
  clock_gettime(CLOCK_MONOTONIC, &end);
  return ((double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec)) /
         (double)calls;
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(void) {
  double runs[5];
  for (int i = 0; i < 5; ++i) runs[i] = run_ns_per_call(200000);
  qsort(runs, 5, sizeof runs[0], by_value);
  printf("%.0f\n", runs[2]);
  return 0;
}
