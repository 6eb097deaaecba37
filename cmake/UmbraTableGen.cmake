# TableGen targets of Umbra's dialects and pass groups.
#
# Every dialect keeps the same files in include/umbra/Dialect/<name>/IR/:
# <name>Ops.td (ops, types and the dialect) and <name>Attributes.td (enums
# and attributes), and gets the same targets: MLIR<name>OpsIncGen,
# Umbra<name>AttributesIncGen (a dependency of the former) and the dialect's
# page of the generated docs.
function(umbra_add_dialect name namespace)
  add_mlir_dialect(${name}Ops ${namespace})
  add_mlir_doc(${name}Ops ${name}Ops Dialects/ -gen-dialect-doc
               -dialect=${namespace})

  set(LLVM_TARGET_DEFINITIONS ${name}Attributes.td)
  mlir_tablegen(${name}Enums.h.inc -gen-enum-decls)
  mlir_tablegen(${name}Enums.cpp.inc -gen-enum-defs)
  mlir_tablegen(${name}Attributes.h.inc -gen-attrdef-decls
                -attrdefs-dialect=${namespace})
  mlir_tablegen(${name}Attributes.cpp.inc -gen-attrdef-defs
                -attrdefs-dialect=${namespace})
  add_public_tablegen_target(Umbra${name}AttributesIncGen)
  add_dependencies(MLIR${name}OpsIncGen Umbra${name}AttributesIncGen)
endfunction()

# The pass declarations of Passes.td in the current directory, for the pass
# group `group` (Tfm, Transforms, Conversion): Umbra<group>PassesIncGen and
# the group's page of the generated docs.
function(umbra_add_passes group)
  set(LLVM_TARGET_DEFINITIONS Passes.td)
  mlir_tablegen(Passes.h.inc -gen-pass-decls -name ${group})
  add_public_tablegen_target(Umbra${group}PassesIncGen)
  add_mlir_doc(Passes ${group}Passes Passes/ -gen-pass-doc)
endfunction()
