#ifndef UMBRA_DIALECT_TFM_IR_TFMDIALECT_TD
#define UMBRA_DIALECT_TFM_IR_TFMDIALECT_TD

include "mlir/IR/OpBase.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::umbra::tfm";
  let summary = "Transformer model ops with plaintext floating-point semantics";
  let description = [{
    The `tfm` dialect is the target of ONNX import. Its ops have the
    plaintext float semantics of the model: a `tfm` program is what the model
    owner would run without any privacy. Ops are semantic (`tfm.gelu`,
    `tfm.layer_norm`, `tfm.softmax`) rather than decomposed, so that later
    passes can choose an MPC-friendly implementation per op. All tensors are
    statically shaped.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 0;
  // Folded constants are `arith.constant`s marked public (TfmFolding.cpp).
  // Folding on constants is one canonicalization pattern of the dialect
  // (TfmFolding.cpp) rather than per-op fold hooks: a fold hook's result is
  // materialised without its operands, so it could not carry their
  // provenance (mpc.sources).
  let hasCanonicalizer = 1;
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic, traits>;

#endif // UMBRA_DIALECT_TFM_IR_TFMDIALECT_TD
