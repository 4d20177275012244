/*
 * Loaded with LD_PRELOAD by scripts/lib/env.sh, on AMD CPUs only; never linked into the application.
 *
 * libtorch's CPU build carries Intel oneMKL, which takes its AVX-512 matrix kernels only where the CPU's vendor
 * string reads GenuineIntel: on AMD processors with AVX-512 (Zen 4, Zen 5) it falls back to its AVX2 kernels, at
 * half the matrix throughput measured on Zen 5. This answers MKL's vendor question with yes. MKL still reads the
 * CPU's feature flags for each instruction set (on Zen 5 it reports AVX-512 with DL Boost and bfloat16, and no AMX),
 * so only the vendor test is lifted, never a feature test.
 */
int mkl_serv_intel_cpu_true(void) {
  return 1;
}
