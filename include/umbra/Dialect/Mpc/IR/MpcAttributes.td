#ifndef UMBRA_DIALECT_MPC_IR_MPCATTRIBUTES_TD
#define UMBRA_DIALECT_MPC_IR_MPCATTRIBUTES_TD

include "umbra/Dialect/Mpc/IR/MpcDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Mpc_Visibility : I32EnumAttr<"Visibility", "who can see a value", [
    I32EnumAttrCase<"public_", 0, "public">,
    I32EnumAttrCase<"client", 1>,
    I32EnumAttrCase<"owner", 2>,
    I32EnumAttrCase<"shared", 3>
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::umbra::mpc";
}

def Mpc_VisibilityAttr : EnumAttr<Mpc_Dialect, Mpc_Visibility, "visibility"> {
  let assemblyFormat = "`<` $value `>`";
}

def Mpc_RevealTarget : I32EnumAttr<"RevealTarget", "who learns a revealed value", [
    I32EnumAttrCase<"all", 0>,
    I32EnumAttrCase<"client", 1>,
    I32EnumAttrCase<"all_and_dealer", 2>
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::umbra::mpc";
}

def Mpc_RevealTargetAttr
    : EnumAttr<Mpc_Dialect, Mpc_RevealTarget, "reveal_target"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // UMBRA_DIALECT_MPC_IR_MPCATTRIBUTES_TD
