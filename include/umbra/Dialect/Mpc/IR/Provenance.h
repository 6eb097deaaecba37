//===- Provenance.h - where every constant came from ------------*- C++ -*-===//
//
// Roles are declared (mpc.visibility), and a role alone cannot show that a
// public constant is not the owner's data in disguise (1/w, a transpose of
// w, a fold of w with a literal). So every `arith.constant` also carries its
// provenance, `mpc.sources`: a dictionary from the name of each source it
// was computed from (an initializer, a Constant node's output, a literal)
// to that source's declared origin:
//
//   "owner"                       a weight of the model owner (a float
//                                 initializer unless declared otherwise)
//   "integer" | "bool" | "literal"
//                                 public by rule: integer and bool tensors
//                                 (shapes, indices, masks), Constant nodes
//                                 and literals of the importer or lowering
//   "--public-weights" | "--public-weight-names" | "--role"
//                                 a weight the user marked public, and how
//   "--public-structure"          a weight mpc-assign-roles proved equal to a
//                                 function of the architecture (a rotary
//                                 table, a mask, ...; on by default, listed
//                                 by the leakage report with its formula)
//   "--const-input"               a graph input whose value the user gave
//                                 at compile time (a shape, axes, sizes)
//
// Every constant built from others gets the union of their sources through
// deriveSources (the importer's node walk, the tfm fold pattern,
// mpc-relocate, the lowering's FixedPointBuilder::constant), never a list
// per call site. The check is fail-closed: the exporter refuses a public
// blob whose provenance is missing or names an owner source
// (checkPublicProvenance), and the artifact records each blob's origin for
// the loader to check again.
//
//===----------------------------------------------------------------------===//
#ifndef UMBRA_DIALECT_MPC_IR_PROVENANCE_H
#define UMBRA_DIALECT_MPC_IR_PROVENANCE_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

#include <map>
#include <string>

namespace umbra::mpc {

inline constexpr llvm::StringLiteral kSourcesAttrName = "mpc.sources";

inline constexpr llvm::StringLiteral kOwnerOrigin = "owner";
inline constexpr llvm::StringLiteral kIntegerOrigin = "integer";
inline constexpr llvm::StringLiteral kBoolOrigin = "bool";
inline constexpr llvm::StringLiteral kLiteralOrigin = "literal";
/// The source name of the constants the lowering makes (causal masks,
/// scales, polynomial coefficients): literals of the compiler.
inline constexpr llvm::StringLiteral kCompilerSource = "(compiler)";
/// The origin of a weight recognised as a function of the architecture.
inline constexpr llvm::StringLiteral kPublicStructureOrigin =
    "--public-structure";
/// The module attribute listing those decisions: weight name -> formula.
inline constexpr llvm::StringLiteral kPublicStructureAttrName =
    "mpc.public_structure";

/// Source name -> origin, outside MLIR (the importer's constants).
using SourceMap = std::map<std::string, std::string>;

/// Whether `origin` is one of the spellings above.
bool isKnownOrigin(llvm::StringRef origin);
/// Whether `origin` says the source was marked public ("--...": by the
/// user, or by the structure recognition the user left on).
bool isMarkedPublic(llvm::StringRef origin);
/// Public by rule: integer, bool, literal.
bool isPublicByRule(llvm::StringRef origin);

/// The provenance of `op`, or null if it has none.
mlir::DictionaryAttr getSources(mlir::Operation *op);
/// The provenance of the constant defining `v`, or null (not a constant,
/// or a constant without provenance).
mlir::DictionaryAttr getSources(mlir::Value v);
void setSources(mlir::Operation *op, mlir::DictionaryAttr sources);
/// `op` is its own single source `name` of origin `origin`.
void setSource(mlir::Operation *op, llvm::StringRef name,
               llvm::StringRef origin);
mlir::DictionaryAttr toSources(mlir::MLIRContext *ctx, const SourceMap &m);
/// Adds `from` to `into`; a name in both with different origins keeps the
/// owner's (the more restrictive).
void mergeSources(SourceMap &into, const SourceMap &from);
SourceMap fromSources(mlir::DictionaryAttr sources);
/// The union of `all` (mergeSources); null if any of them is null, so that
/// a forgotten provenance stays missing instead of becoming "none".
mlir::DictionaryAttr unionSources(mlir::MLIRContext *ctx,
                                  llvm::ArrayRef<mlir::DictionaryAttr> all);
/// Gives `op` (a constant computed from `from`) the union of the sources
/// of the constants defining `from`; leaves it without provenance if one
/// of them has none.
void deriveSources(mlir::Operation *op, mlir::ValueRange from);

/// Why a constant encoded as public (an artifact blob every role receives)
/// may not be public: "" if its provenance is present and names no owner
/// source, else a message naming the source.
std::string checkPublicProvenance(mlir::Operation *cst);

} // namespace umbra::mpc

#endif // UMBRA_DIALECT_MPC_IR_PROVENANCE_H
