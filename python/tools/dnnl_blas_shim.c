/* Fortran BLAS sgemm_ implemented with oneDNN's dnnl_sgemm.
 *
 * Debian's python3-torch 1.13 links the reference (netlib) BLAS, which runs
 * at ~3 GFLOP/s here. oneDNN (libdnnl2, already a torch dependency) has a
 * JIT-compiled AVX2 sgemm. Preloading this shim routes torch's fp32 GEMMs to
 * it without changing anything system-wide:
 *   gcc -O2 -shared -fPIC -o runs/libdnnl_blas_shim.so tools/dnnl_blas_shim.c -l:libdnnl.so.2
 *   LD_PRELOAD=$PWD/runs/libdnnl_blas_shim.so /usr/bin/python3 -m umbra_models.train ...
 * Column-major C = op(A) op(B) is row-major C^T = op(B)^T op(A)^T, so the
 * call swaps A/B and m/n. Results agree with the reference BLAS up to fp32
 * rounding (summation order differs).
 */
#include <stdint.h>

typedef int64_t dnnl_dim_t;
extern int dnnl_sgemm(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K,
                      float alpha, const float *A, dnnl_dim_t lda, const float *B,
                      dnnl_dim_t ldb, float beta, float *C, dnnl_dim_t ldc);

void sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc) {
  if (*m == 0 || *n == 0) return;
  dnnl_sgemm(*transb, *transa, *n, *m, *k, *alpha, b, *ldb, a, *lda, *beta, c, *ldc);
}
