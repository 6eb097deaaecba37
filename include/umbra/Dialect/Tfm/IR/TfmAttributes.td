#ifndef UMBRA_DIALECT_TFM_IR_TFMATTRIBUTES_TD
#define UMBRA_DIALECT_TFM_IR_TFMATTRIBUTES_TD

include "umbra/Dialect/Tfm/IR/TfmDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Tfm_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how GeLU is defined", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"tanh", 1>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::umbra::tfm";
}

def Tfm_GeluApproximationAttr
    : EnumAttr<Tfm_Dialect, Tfm_GeluApproximation, "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // UMBRA_DIALECT_TFM_IR_TFMATTRIBUTES_TD
