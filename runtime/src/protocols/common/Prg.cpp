//===- Prg.cpp - AES-128-CTR PRG ------------------------------------------===//
#include "umbra/runtime/Prg.h"
#include "umbra/runtime/Error.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <sys/random.h>

namespace umbra::rt {

struct Prg::Impl {
  EVP_CIPHER_CTX *ctx = nullptr;
  ~Impl() {
    if (ctx)
      EVP_CIPHER_CTX_free(ctx);
  }
};

Prg::Prg() : Prg(osSeed()) {}
Prg::Prg(const Seed &seed) : impl_(std::make_unique<Impl>()) { reseed(seed); }
Prg::~Prg() = default;
Prg::Prg(Prg &&) noexcept = default;
Prg &Prg::operator=(Prg &&) noexcept = default;

void Prg::reseed(const Seed &seed) {
  if (!impl_)
    impl_ = std::make_unique<Impl>();
  if (impl_->ctx)
    EVP_CIPHER_CTX_free(impl_->ctx);
  impl_->ctx = EVP_CIPHER_CTX_new();
  uint8_t iv[16] = {0};
  UMBRA_CHECK(impl_->ctx && EVP_EncryptInit_ex(impl_->ctx, EVP_aes_128_ctr(),
                                               nullptr, seed.data(), iv) == 1,
              "AES-CTR initialisation failed");
}

void Prg::fill(void *out, size_t bytes) {
  auto *p = static_cast<uint8_t *>(out);
  std::memset(p, 0, bytes);
  while (bytes) {
    int chunk = int(std::min<size_t>(bytes, size_t(1) << 30));
    int outl = 0;
    UMBRA_CHECK(EVP_EncryptUpdate(impl_->ctx, p, &outl, p, chunk) == 1 &&
                    outl == chunk,
                "AES-CTR failed");
    p += chunk;
    bytes -= size_t(chunk);
  }
}

uint64_t Prg::next() {
  uint64_t v;
  fill(&v, 8);
  return v;
}

std::vector<uint64_t> Prg::vec(size_t n) {
  std::vector<uint64_t> v(n);
  if (n)
    fill(v.data(), n * 8);
  return v;
}

Seed Prg::osSeed() {
  Seed s;
  ssize_t got = getrandom(s.data(), s.size(), 0);
  if (got != ssize_t(s.size()))
    UMBRA_CHECK(RAND_bytes(s.data(), int(s.size())) == 1,
                "no OS randomness available");
  return s;
}

} // namespace umbra::rt
