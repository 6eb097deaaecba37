//===- HostileInputTest.cpp - Inputs and artifacts an attacker chooses ----===//
//
// Every input that used to give a silent wrong answer (a reshaped tensor, a
// token id outside the vocabulary, a rounded or truncated float id, NaN,
// a value whose products overflow the ring) and every output name that
// would escape -o is now a clear error, with the same message from the
// float reference, the --local parent and the role that owns the input,
// before any connection.
//
//===----------------------------------------------------------------------===//
#include "ProcessUtil.h"
#include "TestUtil.h"

#include <cmath>

using namespace umbra::rt;
using namespace umbra::rt::test;

namespace {

class HostileInputTest : public ProcessFixture {
protected:
  /// ids [1x4] (client, frac 0) -> one_hot(10) -> shared embedding [10x4]
  /// of the owner -> revealed to the client as "emb".
  std::string idProgram() {
    ProgramBuilder b(16);
    int ids = b.input("ids", {1, 4}, Vis::Client, 0);
    std::vector<double> table(40);
    for (size_t i = 0; i < table.size(); ++i)
      table[i] = double(i) / 8;
    int w = b.share(b.constant("table", {10, 4}, Vis::Owner, table));
    int e = b.reveal(b.matmul(b.share(b.oneHot(ids, 10)), w), RevealTo::Client);
    int out = b.slot("emb", {1, 4, 4}, Vis::Public, 16);
    b.instr({e}, {out}, makeAttrs(fb::ReshapeT{}));
    b.output(out);
    std::string path = (dir / "ids.umbra").string();
    b.writeFile(path);
    return path;
  }
  std::string npy(const std::string &name, const Shape &shape,
                  const std::vector<double> &v) {
    std::string path = (dir / (name + ".npy")).string();
    writeNpy(path, shape, v);
    return path;
  }
  /// The message of each mode that must refuse `input` ("name=file"): the
  /// float reference, the --local parent, and the role holding the input
  /// (P0, with no peer ever started: it must fail before connecting).
  void expectRefused(const std::string &prog, const std::string &input,
                     const std::string &message) {
    std::string p0 = "127.0.0.1:" + std::to_string(freePort());
    std::string d = "127.0.0.1:" + std::to_string(freePort());
    std::vector<std::vector<std::string>> modes = {
        {prog, "--reference", "-i", input, "-o", (dir / "ref").string()},
        {prog, "--local", "-i", input, "-o", (dir / "mpc").string()},
        {prog, "--role", "p0", "--p0", p0, "--dealer", d, "--connect-timeout",
         "20", "-i", input, "-o", (dir / "p0").string()}};
    for (const auto &args : modes) {
      Result r = run(args, 30);
      EXPECT_EQ(r.code, 1) << args[1] << ": " << r.err;
      EXPECT_NE(r.err.find("mpc-run: error: "), std::string::npos)
          << args[1] << ": " << r.err;
      EXPECT_NE(r.err.find(message), std::string::npos)
          << args[1] << ": " << r.err;
      EXPECT_LT(r.seconds, 5) << args[1] << " waited for a peer";
      EXPECT_EQ(r.err.find("connect"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(fs::exists(dir / "ref"));
    EXPECT_FALSE(fs::exists(dir / "mpc"));
    EXPECT_FALSE(fs::exists(dir / "p0"));
  }
};

TEST_F(HostileInputTest, ShapeMustMatchExactly) {
  // [8x8] has the 64 elements of [4x16]: it used to be accepted.
  std::string prog = program();
  std::vector<double> v(64, 0.5);
  expectRefused(prog, "x=" + npy("x88", {8, 8}, v),
                "input 'x' has shape [8x8], expected [4x16]");
  expectRefused(prog, "x=" + npy("x64", {64}, v),
                "input 'x' has shape [64], expected [4x16]");
  Result ok = run({prog, "--reference", "-i", input()});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST_F(HostileInputTest, TokenIdsOutsideTheVocabulary) {
  std::string prog = idProgram();
  expectRefused(prog, "ids=" + npy("big", {1, 4}, {1, 2, 10, 3}),
                "input 'ids' element 2 is token id 10, outside the "
                "vocabulary [0, 10)");
  expectRefused(prog, "ids=" + npy("neg", {1, 4}, {-1, 2, 3, 4}),
                "input 'ids' element 0 is token id -1, outside the "
                "vocabulary [0, 10)");
  expectRefused(prog, "ids=" + npy("huge", {1, 4}, {0, 0, 0, 1e300}),
                "input 'ids' element 3 is token id 1e+300, outside the "
                "vocabulary [0, 10)");
}

TEST_F(HostileInputTest, TokenIdsMustBeIntegers) {
  // 2.5 used to be rounded to 3 in MPC and truncated to 2 in the reference.
  std::string prog = idProgram();
  expectRefused(prog, "ids=" + npy("frac", {1, 4}, {1, 2.5, 3, 4}),
                "input 'ids' element 1 is 2.5; token ids must be integers");
}

TEST_F(HostileInputTest, TokenIdsInRangeGiveTheEmbedding) {
  // The same program with valid ids: MPC and the reference agree with the
  // table (exact: one-hot products involve no truncation).
  std::string prog = idProgram();
  std::string in = "ids=" + npy("ok", {1, 4}, {9, 0, 3, 3});
  Result m = run({prog, "--local", "-i", in, "-o", (dir / "mpc").string()});
  ASSERT_EQ(m.code, 0) << m.err;
  Result r = run({prog, "--reference", "-i", in, "-o", (dir / "ref").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  NpyArray a = readNpy((dir / "mpc" / "emb.npy").string());
  NpyArray b = readNpy((dir / "ref" / "emb.npy").string());
  ASSERT_EQ(a.shape, (Shape{1, 4, 4}));
  const double ids[4] = {9, 0, 3, 3};
  for (int t = 0; t < 4; ++t)
    for (int d = 0; d < 4; ++d) {
      double want = (ids[t] * 4 + d) / 8;
      EXPECT_NEAR(a.data[t * 4 + d], want, 1.0 / 65536);
      EXPECT_EQ(b.data[t * 4 + d], want);
    }
}

TEST_F(HostileInputTest, NonFiniteValues) {
  std::string prog = program();
  std::vector<double> v(64, 0.25);
  v[5] = std::nan("");
  expectRefused(prog, "x=" + npy("nan", {4, 16}, v),
                "input 'x' element 5 is nan; inputs must be finite");
  v[5] = 0;
  v[63] = -INFINITY;
  expectRefused(prog, "x=" + npy("inf", {4, 16}, v),
                "input 'x' element 63 is -inf; inputs must be finite");
  std::vector<double> ids = {1, std::nan(""), 2, 3};
  expectRefused(idProgram(), "ids=" + npy("idnan", {1, 4}, ids),
                "input 'ids' element 1 is nan; inputs must be finite");
}

TEST_F(HostileInputTest, ValuesBeyondTheRingRange) {
  // With 16 fractional bits the bound is floor(sqrt(2^63 - 1)) / 2^16 =
  // 3037000499 / 65536 = 46340.9499969...: 1e12 used to overflow the
  // fixed-point product silently.
  EXPECT_EQ(kMaxEncodedInput * kMaxEncodedInput, 9223372030926249001LL);
  EXPECT_GT(double(kMaxEncodedInput + 1) * double(kMaxEncodedInput + 1),
            std::ldexp(1.0, 63));
  EXPECT_DOUBLE_EQ(maxInputMagnitude(16), 3037000499.0 / 65536);
  std::string prog = program();
  std::vector<double> v(64, 0.25);
  v[3] = 1e12;
  const std::string range = "outside the representable range "
                            "[-46340.9499969482, 46340.9499969482] (16 "
                            "fractional bits: the product of two encoded "
                            "values must stay below 2^63)";
  expectRefused(prog, "x=" + npy("big", {4, 16}, v),
                "input 'x' element 3 is 1000000000000, " + range);
  v[3] = -46341;
  expectRefused(prog, "x=" + npy("edge", {4, 16}, v),
                "input 'x' element 3 is -46341, " + range);
  // Just inside the bound: accepted, and MPC agrees with the reference.
  v[3] = -46340.9;
  std::string in = "x=" + npy("inside", {4, 16}, v);
  Result m = run({prog, "--local", "-i", in, "-o", (dir / "mpc").string()});
  ASSERT_EQ(m.code, 0) << m.err;
  Result r = run({prog, "--reference", "-i", in, "-o", (dir / "ref").string()});
  ASSERT_EQ(r.code, 0) << r.err;
}

TEST_F(HostileInputTest, BothExecutorsRefuseTheSameValues) {
  // The library entry points (not only mpc-run) apply the same checks.
  ProgramBuilder b(16);
  int x = b.input("x", {2}, Vis::Client);
  b.output(b.reveal(b.share(x), RevealTo::Client));
  Program prog = Program::loadBytes(b.finish());
  FloatExecutor ref(prog);
  std::string want = "input 'x' element 1 is 1000000000000, outside the "
                     "representable range";
  EXPECT_NE(errorOf([&] {
              ref.setInput(x, {1, 1e12});
            }).find(want),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              checkInput(prog, x, {2}, {1, 1e12});
            }).find(want),
            std::string::npos);
  EXPECT_EQ(errorOf([&] {
              checkInput(prog, x, {1, 2}, {1, 1});
            }),
            "input 'x' has shape [1x2], expected [2]");
  EXPECT_EQ(errorOf([&] { checkInput(prog, x, {2}, {1, -2}); }), "");
}

TEST_F(HostileInputTest, OutputNamesMustBePlainFileNames) {
  // An output named "../x" or "/abs/path" used to be written outside -o.
  for (const std::string &name : std::vector<std::string>{
           "../evil", "/tmp/umbra-evil-output", "a/b", "..", ".", "back\\slash",
           std::string(256, 'n')}) {
    ProgramBuilder b(16);
    int x = b.input("x", {4, 16}, Vis::Client);
    int y = b.slot(name, {4, 16}, Vis::Client, 16);
    b.instr({x}, {y}, makeAttrs(fb::ReshapeT{}));
    b.output(y);
    std::string prog = (dir / "evil.umbra").string();
    b.writeFile(prog);
    program(); // x.npy
    fs::create_directories(dir / "out");
    Result r =
        run({prog, "--reference", "-i", input(), "-o", (dir / "out").string()});
    EXPECT_EQ(r.code, 1) << name;
    EXPECT_NE(r.err.find("output name '" + name +
                         "' is not a plain file name (outputs are written "
                         "as NAME.npy under the output directory)"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(fs::is_empty(dir / "out")) << name;
    EXPECT_FALSE(fs::exists(dir / "evil.npy"));
    EXPECT_FALSE(fs::exists("/tmp/umbra-evil-output.npy"));
  }
  EXPECT_TRUE(isPlainFileName("logits"));
  EXPECT_TRUE(isPlainFileName("%12"));
  EXPECT_TRUE(isPlainFileName("..."));
  EXPECT_TRUE(isPlainFileName(std::string(255, 'n')));
  EXPECT_FALSE(isPlainFileName(""));
  EXPECT_FALSE(isPlainFileName(std::string("a\0b", 3)));
  EXPECT_FALSE(isPlainFileName("x/"));
}

} // namespace

namespace {

/// An artifact whose one slot's shape ([long]) starts 4 bytes into a
/// [uint] vector, at 4 mod 8: FlatBuffers 2.0's verifier accepts it (it
/// checks the length word's alignment only) and every read of the shape
/// would be misaligned.
std::vector<uint8_t> misalignedShapeArtifact(int pad) {
  flatbuffers::FlatBufferBuilder fbb;
  // Read as a [long]: length 2, then 16 bytes.
  auto words = fbb.CreateVector(std::vector<uint32_t>{2, 4, 0, 16, 0});
  // Bytes between it and the buffer's start move it by 4.
  if (pad)
    fbb.CreateVector(std::vector<uint32_t>{}); // a length word alone
  flatbuffers::Offset<flatbuffers::Vector<int64_t>> shape(words.o - 4);
  std::vector<flatbuffers::Offset<fb::Slot>> slots = {fb::CreateSlot(
      fbb, fbb.CreateString("x"), shape, 16, fb::Visibility::Client)};
  ArtifactWriter w;
  auto weights = w.weightTables(fbb);
  auto prog = fb::CreateProgram(
      fbb, kIsaVersion, 16, fbb.CreateVector(slots),
      fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Instr>>{}), weights,
      fbb.CreateVector(std::vector<int>{}));
  fb::FinishProgramBuffer(fbb, prog);
  const uint8_t *buf = fbb.GetBufferPointer();
  // Where the elements landed, from the buffer's start (no element read).
  const uint8_t *data = reinterpret_cast<const uint8_t *>(
      fb::GetProgram(buf)->slots()->Get(0)->shape()->Data());
  if ((data - buf) % 8 == 0)
    return {};
  return w.bytes(buf, fbb.GetSize());
}

TEST(HostileArtifact, MisalignedVectorIsRefused) {
  std::vector<uint8_t> bytes = misalignedShapeArtifact(0);
  if (bytes.empty())
    bytes = misalignedShapeArtifact(1);
  ASSERT_FALSE(bytes.empty()) << "could not place the vector at 4 mod 8";
  EXPECT_EQ(errorOf([&] { Program::loadBytes(bytes); }),
            "a vector of 8-byte elements is misaligned");
}

} // namespace

namespace {

/// A v1 .npy file with header dictionary `dict` and `data` bytes.
std::string rawNpy(const fs::path &path, const std::string &dict,
                   size_t dataBytes) {
  std::string h = dict + "\n";
  std::string f = std::string("\x93NUMPY\x01\x00", 8);
  f += char(h.size() & 0xff);
  f += char(h.size() >> 8);
  f += h + std::string(dataBytes, '\0');
  std::ofstream(path, std::ios::binary) << f;
  return path.string();
}

TEST(HostileNpy, ShapesThatDoNotFitAreRefused) {
  fs::path d =
      fs::temp_directory_path() / ("umbra-npy-" + std::to_string(getpid()));
  fs::create_directories(d);
  auto err = [&](const std::string &shape, size_t bytes) {
    std::string p = rawNpy(d / "a.npy",
                           "{'descr': '<f8', 'fortran_order': False, "
                           "'shape': (" +
                               shape + "), }",
                           bytes);
    return errorOf([&] { readNpy(p); });
  };
  // -2^61 elements of 8 bytes wrap to 0 bytes; 2^59 x 16 overflows.
  EXPECT_NE(err("-2305843009213693952,", 0)
                .find("bad shape dimension "
                      "'-2305843009213693952'"),
            std::string::npos);
  EXPECT_NE(err("576460752303423488, 16", 0)
                .find("data size does not match "
                      "shape"),
            std::string::npos);
  EXPECT_NE(err("2, x", 16).find("bad shape dimension 'x'"), std::string::npos);
  EXPECT_NE(err("3,", 16).find("data size does not match shape"),
            std::string::npos);
  EXPECT_EQ(err("2, 1", 16), "");
  EXPECT_EQ(err("0, 5", 0), "");
  fs::remove_all(d);
}

} // namespace
