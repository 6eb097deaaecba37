//===- IntegerIoTest.cpp - integer and bool program outputs ---------------===//
//
// Integers and bools are ring elements at 0 fractional bits; an output slot
// says which ONNX type the client writes (Slot.elem_type), and argmax (the
// index of ONNX ArgMax/ArgMin/Hardmax) picks the first maximum on ties at
// every level of its tree.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "umbra/runtime/Npy.h"
#include "umbra/runtime/protocols/Dealer2pc.h"
#include "program_generated.h"

#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace umbra::rt;
using namespace umbra::rt::test;
namespace fs = std::filesystem;

namespace {

fs::path tempDir() {
  fs::path d = fs::temp_directory_path() /
               ("umbra-intio-" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

TEST(IntegerIo, TypedOutputsKeepTheLowBits) {
  fs::path d = tempDir();
  std::vector<double> v{3, -1, 261, 0, -128};
  struct Case {
    fb::ElemType t;
    std::vector<double> want;
  };
  for (const Case &c : std::vector<Case>{
           {fb::ElemType::Bool, {1, 1, 1, 0, 1}},
           {fb::ElemType::Int8, {3, -1, 5, 0, -128}},
           {fb::ElemType::UInt8, {3, 255, 5, 0, 128}},
           {fb::ElemType::Int32, {3, -1, 261, 0, -128}},
           {fb::ElemType::Int64, {3, -1, 261, 0, -128}},
           {fb::ElemType::UInt64, {3, 18446744073709551615.0, 261, 0,
                                   18446744073709551488.0}},
           {fb::ElemType::Real, {3, -1, 261, 0, -128}}}) {
    std::string p = (d / "o.npy").string();
    writeNpy(p, {5}, v, uint8_t(c.t));
    NpyArray a = readNpy(p);
    EXPECT_EQ(a.shape, Shape{5});
    EXPECT_EQ(a.data, c.want) << fb::EnumNameElemType(c.t);
  }
  EXPECT_NE(errorOf([&] { writeNpy((d / "x.npy").string(), {1}, {1}, 200); })
                .find("unknown element type"),
            std::string::npos);
  fs::remove_all(d);
}

TEST(IntegerIo, SlotElementTypeRoundTrips) {
  ProgramBuilder b(16);
  int x = b.input("x", {4}, Vis::Client, 0);
  int y = b.emit({x}, fb::CopyT{});
  b.output(y);
  b.elemType(y, uint8_t(fb::ElemType::UInt8));
  Program p = Program::loadBytes(b.finish());
  EXPECT_EQ(p.slots[p.outputs[0]].elemType, uint8_t(fb::ElemType::UInt8));
  EXPECT_EQ(p.slots[x].elemType, uint8_t(fb::ElemType::Real));
  // An integer slot has no fractional bits.
  EXPECT_NE(buildError([](ProgramBuilder &b) {
              int x = b.input("x", {4}, Vis::Client);
              int y = b.emit({x}, fb::CopyT{});
              b.output(y);
              b.elemType(y, uint8_t(fb::ElemType::Int64));
            }).find("an integer or bool slot has 0 fractional bits"),
            std::string::npos);
}

/// Ties anywhere in a row (a whole row equal, equal maxima at the two ends,
/// in different halves of the tree) give the first index; each server's
/// share of the index alone is not the index.
TEST(IntegerIo, ArgmaxPicksTheFirstOfTiedMaxima) {
  int64_t rows = 4, len = 7;
  std::vector<int64_t> plain{5, 5, 5, 5, 5, 5, 5,   9, 1, 2, 3, 4, 0, 9,
                             -3, -1, -7, -1, -2, -1, -9, 0, 0, 2, 0, 2, 2, 0};
  Vec x(plain.begin(), plain.end());
  Vec am[3];
  runParties([&](Party &P) {
    Vec xs = shareInput(P, Role::P0, x, x.size());
    maxRows(P, xs, rows, len, nullptr, &am[int(P.role)]);
  });
  Vec a = reconstruct(am);
  std::vector<int64_t> want{0, 0, 1, 2};
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_EQ(int64_t(a[r]), want[r]) << "row " << r;
    EXPECT_NE(am[0][r], a[r]) << "P0's share is the index itself";
  }
}

TEST(IntegerIo, EmptyArraysReadWhateverTheirOtherDimensions) {
  fs::path d = tempDir();
  std::string p = (d / "e.npy").string();
  writeNpy(p, {3, 0, 5}, {}, uint8_t(fb::ElemType::Int64));
  NpyArray a = readNpy(p);
  EXPECT_EQ(a.shape, (Shape{3, 0, 5}));
  EXPECT_TRUE(a.data.empty());
  fs::remove_all(d);
}

} // namespace
