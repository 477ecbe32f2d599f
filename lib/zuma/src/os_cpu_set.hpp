// Internal: conversion between CpuSet and the kernel's cpu_set_t (1024 bits, same as CpuSet).
#pragma once

#include <sched.h>

#include "zap/zuma/cpu_set.hpp"

namespace zap::zuma::detail {

static_assert(CpuSet::kMaxCpus <= CPU_SETSIZE, "cpu_set_t must hold every CpuSet");

inline cpu_set_t to_os_cpu_set(const CpuSet& cpus) noexcept {
  cpu_set_t os;
  CPU_ZERO(&os);
  for (unsigned cpu : cpus) CPU_SET(cpu, &os);
  return os;
}

inline CpuSet from_os_cpu_set(const cpu_set_t& os) noexcept {
  CpuSet cpus;
  for (unsigned cpu = 0; cpu < CpuSet::kMaxCpus; ++cpu) {
    if (CPU_ISSET(cpu, &os)) cpus.add(cpu);
  }
  return cpus;
}

}  // namespace zap::zuma::detail
