//===- mpc-translate.cpp - mlir-translate for Umbra -----------------------===//
//
// Translates between MLIR and external formats: `--import-onnx` reads an ONNX
// model (binary or textual) and prints tfm IR; `--export-umbra` writes the
// runtime's artifact from mpc IR; `--leakage-report` lists its reveals.
//
//===----------------------------------------------------------------------===//
#include "umbra/Target/ONNX/ImportONNX.h"
#include "umbra/Target/Umbra/ExportUmbra.h"

#include "mlir/Support/LogicalResult.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  umbra::registerONNXImportTranslation();
  umbra::registerUmbraExportTranslation();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "Umbra translation driver\n"));
}
