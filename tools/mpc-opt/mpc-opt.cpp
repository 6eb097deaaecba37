//===- mpc-opt.cpp - mlir-opt for Umbra -----------------------------------===//
//
// Parses, verifies, transforms and prints IR with every Umbra dialect and
// pass registered, plus the upstream pieces Umbra programs use (func, arith,
// canonicalize/cse). For lit tests and pass development.
//
//===----------------------------------------------------------------------===//
#include "umbra/Conversion/Passes.h"
#include "umbra/Dialect/Mpc/IR/MpcDialect.h"
#include "umbra/Dialect/Tfm/IR/TfmDialect.h"
#include "umbra/Dialect/Tfm/Transforms/Passes.h"
#include "umbra/Pipelines/Pipelines.h"
#include "umbra/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<umbra::tfm::TfmDialect, umbra::mpc::MpcDialect,
                  mlir::arith::ArithDialect, mlir::func::FuncDialect>();
  umbra::tfm::registerTfmPasses();
  umbra::registerTransformsPasses();
  umbra::registerConversionPasses();
  umbra::registerUmbraPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::registerPrintOpStatsPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Umbra optimizer driver\n", registry));
}
