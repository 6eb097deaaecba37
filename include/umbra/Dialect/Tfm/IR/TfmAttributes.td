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

def Tfm_SoftmaxKernel : I32EnumAttr<"SoftmaxKernel",
    "the function a kernel softmax takes in place of exp", [
      I32EnumAttrCase<"square", 0>,
      I32EnumAttrCase<"relu", 1>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::umbra::tfm";
}

def Tfm_SoftmaxKernelAttr
    : EnumAttr<Tfm_Dialect, Tfm_SoftmaxKernel, "softmax_kernel"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // UMBRA_DIALECT_TFM_IR_TFMATTRIBUTES_TD
