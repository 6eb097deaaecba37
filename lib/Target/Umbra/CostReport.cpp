//===- CostReport.cpp - Predicted communication of an exported program ----===//
//
// The compiler's cost model is the runtime's: the module is exported to an
// artifact in memory, loaded and verified by the runtime, and every
// instruction is priced by its row of the instruction table (Isa.h), for
// both comparison backends. The same formulas are checked against
// measurements by runtime/test/IsaCostTest.cpp. Runtime errors (it throws)
// are caught here and become diagnostics.
//
//===----------------------------------------------------------------------===//
#include "umbra/Target/Umbra/ExportUmbra.h"

#include "umbra/runtime/Isa.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"

#include <map>
#include <vector>

using namespace mlir;

LogicalResult umbra::printCostReport(ModuleOp module, raw_ostream &os) {
  // Pricing needs shapes, not weights: export the copy without the owner's
  // blobs (on GPT-2-small the peak RSS stays at the 0.75 GB of compiling,
  // instead of 2.0 GB with a second in-memory copy of every weight).
  std::string bytes;
  llvm::raw_string_ostream buf(bytes);
  UmbraExportOptions options;
  options.ownerBlobs = false;
  if (failed(exportUmbra(module, buf, options)))
    return failure();
  struct Row {
    uint64_t count = 0;
    rt::Cost c[2];
  };
  std::map<std::string, Row> rows;
  Row total, deploy, prepare;
  bool blockSparse = false;
  try {
    rt::Program prog = rt::Program::loadBytes(
        std::vector<uint8_t>(bytes.begin(), bytes.end()));
    for (size_t i = 0; i < prog.instrs.size(); ++i) {
      const rt::InstrInfo &I = prog.instrs[i];
      blockSparse |= I.op() == rt::Op::BlockMatmul;
      Row &r = I.deploy    ? deploy
               : I.prepare ? prepare
                           : rows[rt::opName(I.op())];
      Row *sums[] = {&r, I.deploy || I.prepare ? nullptr : &total};
      for (Row *s : sums) {
        if (!s)
          continue;
        ++s->count;
        s->c[0] += rt::instrCost(prog, i, rt::Cmp::Dcf);
        s->c[1] += rt::instrCost(prog, i, rt::Cmp::Bits);
      }
    }
  } catch (const rt::Error &e) {
    return module.emitError("the runtime rejects the exported program: ")
           << e.what();
  }
  os << "cost report: online bytes (both directions, frame headers "
        "included) and rounds per inference, predicted by the runtime's "
        "instruction table\n";
  auto line = [&](StringRef name, const Row &r) {
    os << llvm::format(
        "  %-12s %6llu %14llu %6llu %14llu %6llu\n", name.str().c_str(),
        (unsigned long long)r.count, (unsigned long long)r.c[0].bytes,
        (unsigned long long)r.c[0].rounds, (unsigned long long)r.c[1].bytes,
        (unsigned long long)r.c[1].rounds);
  };
  os << llvm::format("  %-12s %6s %14s %6s %14s %6s\n", "op", "count",
                     "dcf bytes", "rounds", "bits bytes", "rounds");
  for (const auto &[name, r] : rows)
    line(name, r);
  line("total", total);
  os << "deployment (once): " << deploy.count << " instructions, "
     << deploy.c[0].bytes << " bytes, " << deploy.c[0].rounds
     << " rounds, plus the opening of constant matmul operands\n";
  if (prepare.count)
    os << "prepared per inference (input-independent: per-inference "
          "shuffles): "
       << prepare.count << " instructions, " << prepare.c[0].bytes
       << " bytes, " << prepare.c[0].rounds
       << " rounds, plus the opening of the weights they permute\n";
  if (blockSparse)
    os << "block-sparse FFNs (--sparsity=predicted) are priced with every "
          "block live, an upper bound: their cost scales with the opened "
          "masks' density (mpc-run --stats measures it)\n";
  return success();
}
