#ifndef UMBRA_DIALECT_MPC_IR_MPCTYPES_TD
#define UMBRA_DIALECT_MPC_IR_MPCTYPES_TD

include "umbra/Dialect/Mpc/IR/MpcDialect.td"
include "umbra/Dialect/Mpc/IR/MpcAttributes.td"
include "mlir/IR/AttrTypeBase.td"

def Mpc_TensorType : TypeDef<Mpc_Dialect, "MpcTensor"> {
  let mnemonic = "tensor";
  let summary = "static-shaped tensor of fixed-point ring elements";
  let description = [{
    A tensor of elements of Z_2^64 read as signed fixed-point numbers with
    `frac` fractional bits (value = element / 2^frac). `visibility` says who
    may see the plaintext: `public`, `client`, `owner` or `shared`
    (additively secret-shared between the two servers). A bit (comparison
    result) is a tensor with `frac = 0` holding 0 or 1.

    Example: `!mpc.tensor<32x768, shared, frac = 16>`
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "::umbra::mpc::Visibility":$visibility,
                        "unsigned":$frac);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRank() const { return getShape().size(); }
    int64_t getNumElements() const;
    bool isShared() const { return getVisibility() == Visibility::shared; }
    /// The same tensor type with another visibility.
    MpcTensorType withVisibility(Visibility v) const {
      return get(getContext(), getShape(), v, getFrac());
    }
    /// The same tensor type with another number of fractional bits.
    MpcTensorType withFrac(unsigned f) const {
      return get(getContext(), getShape(), getVisibility(), f);
    }
    /// The same tensor type with another shape.
    MpcTensorType withShape(::llvm::ArrayRef<int64_t> s) const {
      return get(getContext(), s, getVisibility(), getFrac());
    }
  }];
}

#endif // UMBRA_DIALECT_MPC_IR_MPCTYPES_TD
