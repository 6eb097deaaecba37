//===- ControlFlowOps.cpp - ONNX Scan, Loop and If, unrolled at import ----===//
//
// MPC has no control flow on secret values: a branch or a trip count that
// depends on the client's data would reveal it. Scan (its length is a
// shape), Loop with a constant trip count and condition, and If with a
// constant condition are public structure: the body is imported once per
// iteration (the chosen branch once), with its inputs bound to the
// iteration's values, and its names scoped to that import. A Loop
// condition the body computes must fold to a constant each iteration. A
// condition or trip count computed from graph inputs is refused.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

using namespace mlir;

namespace umbra::onnx_import {

/// A Loop without a trip count runs until its condition is false; this
/// bounds the unrolled program.
constexpr int64_t kMaxUnrolledIterations = 4096;
/// All body imports of a model (nested loops multiply).
constexpr int64_t kMaxBodyImports = 65536;

LogicalResult Importer::importBody(onnx::GraphProto &body, ArrayRef<Entry> args,
                                   SmallVector<Entry> &results) {
  if (body.input_size() != static_cast<int>(args.size()))
    return nodeError() << "the body takes " << body.input_size()
                       << " inputs, expected " << args.size(),
           failure();
  if (++bodyImports > kMaxBodyImports)
    return nodeError() << "more than " << kMaxBodyImports
                       << " subgraph imports in the model (control flow is "
                          "unrolled at compile time)",
           failure();
  if (failed(checkOpsSupported(body)))
    return failure();
  // The outer state, restored once the body is imported.
  onnx::NodeProto *outerNode = node;
  std::string outerLabel = nodeLabel;
  Location outerLoc = loc;
  SmallVector<Entry> outerIns = currentIns;
  llvm::StringMap<Entry> outerValues = values;
  llvm::StringMap<unsigned> outerUses = useCount;
  size_t outerComputed = computed.size();
  auto restore = [&] {
    node = outerNode;
    nodeLabel = outerLabel;
    loc = outerLoc;
    currentIns = outerIns;
    values = std::move(outerValues);
    useCount = std::move(outerUses);
    computed.resize(outerComputed);
  };
  for (auto [k, vi] : llvm::enumerate(body.input()))
    values[vi.name()] = args[k];
  for (auto &t : *body.mutable_initializer()) {
    ConstPtr c = constFromProto(
        t, isFloatDT(t.data_type()) ? Role::Owner : Role::Public);
    c->sources = {{t.name(), isFloatDT(t.data_type())
                                 ? mpc::kOwnerOrigin.str()
                                 : ruleOrigin(t.data_type()).str()}};
    values[t.name()].cst = c;
  }
  for (const auto &n : body.node())
    for (const auto &name : n.input())
      if (!name.empty())
        ++useCount[name];
  for (const auto &o : body.output())
    ++useCount[o.name()];
  results.clear();
  for (auto &n : *body.mutable_node())
    if (failed(importNode(n)))
      return restore(), failure();
  for (const auto &o : body.output()) {
    auto it = values.find(o.name());
    if (it == values.end()) {
      restore();
      return nodeError() << "body output '" << o.name()
                         << "' is never computed",
             failure();
    }
    results.push_back(it->second);
  }
  restore();
  return success();
}

/// The graph attribute `name` of the current node, or null.
static onnx::GraphProto *graphAttr(onnx::NodeProto *n, StringRef name) {
  for (auto &a : *n->mutable_attribute())
    if (a.name() == name && a.has_g())
      return a.mutable_g();
  return nullptr;
}

Value Importer::emitStack(ArrayRef<Entry> parts, int64_t axis, bool reverse) {
  SmallVector<Value> vs;
  for (const Entry &e : parts) {
    Value v = valueOf(e);
    if (!v)
      return {};
    SmallVector<int64_t> shape(cast<RankedTensorType>(v.getType()).getShape());
    shape.insert(shape.begin() + axis, 1);
    vs.push_back(emitReshape(v, shape));
  }
  if (reverse)
    std::reverse(vs.begin(), vs.end());
  return emitConcat(vs, axis);
}

LogicalResult Importer::ifOp(Ins in, Outs out) {
  const Entry &cond = in[0];
  if (!cond.cst)
    return nodeError() << "the condition must be a constant: a condition "
                          "computed from graph inputs would branch on "
                          "secret data (MPC has no control flow on secrets)",
           failure();
  auto v = constInts(cond, "condition");
  if (failed(v))
    return failure();
  if (v->size() != 1)
    return nodeError() << "the condition must have one element", failure();
  onnx::GraphProto *branch =
      graphAttr(node, (*v)[0] ? "then_branch" : "else_branch");
  if (!branch)
    return nodeError() << "has no " << ((*v)[0] ? "then" : "else")
                       << "_branch graph",
           failure();
  SmallVector<Entry> results;
  if (failed(importBody(*branch, {}, results)))
    return failure();
  if (results.size() != out.size())
    return nodeError() << "the branch has " << results.size()
                       << " outputs, the node " << out.size(),
           failure();
  for (size_t k = 0; k < out.size(); ++k)
    out[k] = results[k];
  return success();
}

LogicalResult Importer::loopOp(Ins in, Outs out) {
  onnx::GraphProto *body = graphAttr(node, "body");
  if (!body)
    return nodeError() << "has no body graph", failure();
  auto constScalar = [&](const Entry &e, StringRef what)
      -> FailureOr<int64_t> {
    if (!e.cst)
      return nodeError() << "the " << what
                         << " must be a constant: one computed from graph "
                            "inputs would decide the control flow by secret "
                            "data (MPC has no control flow on secrets)",
             failure();
    auto v = constInts(e, what);
    if (failed(v))
      return failure();
    if (v->size() != 1)
      return nodeError() << "the " << what << " must have one element",
             failure();
    return (*v)[0];
  };
  std::optional<int64_t> trips;
  if (in.size() > 0 && in[0]) {
    auto m = constScalar(in[0], "trip count");
    if (failed(m))
      return failure();
    trips = *m;
  }
  bool cond = true;
  if (in.size() > 1 && in[1]) {
    auto c = constScalar(in[1], "condition");
    if (failed(c))
      return failure();
    cond = *c != 0;
  }
  if (!trips && !cond)
    trips = 0;
  SmallVector<Entry> carried(in.begin() + std::min<size_t>(2, in.size()),
                             in.end());
  for (const Entry &e : carried)
    if (!e)
      return nodeError() << "an absent loop-carried value is not supported",
             failure();
  int64_t nCarried = carried.size();
  int64_t nScan = static_cast<int64_t>(out.size()) - nCarried;
  if (nScan < 0 || body->output_size() != 1 + nCarried + nScan)
    return nodeError() << "the body's outputs do not match the node's",
           failure();
  SmallVector<SmallVector<Entry>> scans(nScan);
  int64_t it = 0;
  for (; cond && (!trips || it < *trips); ++it) {
    if (it >= kMaxUnrolledIterations)
      return nodeError() << "more than " << kMaxUnrolledIterations
                         << " iterations (the loop is unrolled at compile "
                            "time)",
             failure();
    SmallVector<Entry> args;
    args.push_back({scalarConst(TP::INT64, it), {}});
    args.push_back({scalarConst(TP::BOOL, 1), {}});
    args.append(carried);
    SmallVector<Entry> res;
    if (failed(importBody(*body, args, res)))
      return failure();
    auto c = constScalar(res[0], "condition the body computes");
    if (failed(c))
      return failure();
    cond = *c != 0;
    for (int64_t k = 0; k < nCarried; ++k)
      carried[k] = res[1 + k];
    for (int64_t k = 0; k < nScan; ++k)
      scans[k].push_back(res[1 + nCarried + k]);
  }
  for (int64_t k = 0; k < nCarried; ++k)
    out[k] = carried[k];
  for (int64_t k = 0; k < nScan; ++k) {
    if (scans[k].empty())
      return nodeError() << "scan output " << k
                         << " of a loop that runs no iteration is not "
                            "supported (its shape is unknown)",
             failure();
    Value v = emitStack(scans[k], 0, false);
    if (!v)
      return failure();
    out[nCarried + k].value = v;
  }
  return success();
}

LogicalResult Importer::scanOp(Ins in, Outs out) {
  onnx::GraphProto *body = graphAttr(node, "body");
  if (!body)
    return nodeError() << "has no body graph", failure();
  // Scan 8 has a batch axis and an optional sequence_lens first input.
  bool batched = opset < 9;
  Ins ins = in;
  if (batched) {
    if (in.size() > 0 && in[0])
      return nodeError() << "sequence_lens is not supported (Scan 8)",
             failure();
    ins = in.drop_front();
  }
  int64_t nScanIn = attrInt("num_scan_inputs", -1);
  int64_t nState = static_cast<int64_t>(ins.size()) - nScanIn;
  if (nScanIn < 1 || nState < 0)
    return nodeError() << "num_scan_inputs must be in [1, " << ins.size()
                       << "]",
           failure();
  int64_t nScanOut = static_cast<int64_t>(out.size()) - nState;
  if (nScanOut < 0 || body->output_size() != nState + nScanOut)
    return nodeError() << "the body's outputs do not match the node's",
           failure();
  for (const Entry &e : ins)
    if (!e)
      return nodeError() << "an absent input is not supported", failure();
  auto listAttr = [&](StringRef name, int64_t n)
      -> FailureOr<SmallVector<int64_t>> {
    auto v = attrInts(name);
    if (!v)
      return SmallVector<int64_t>(n, 0);
    if (static_cast<int64_t>(v->size()) != n)
      return nodeError() << name << " has " << v->size() << " entries, "
                         << "expected " << n,
             failure();
    return *v;
  };
  auto inDirs = listAttr(batched ? "directions" : "scan_input_directions",
                         nScanIn);
  auto inAxes = batched ? FailureOr<SmallVector<int64_t>>(
                              SmallVector<int64_t>(nScanIn, 0))
                        : listAttr("scan_input_axes", nScanIn);
  auto outDirs = batched ? FailureOr<SmallVector<int64_t>>(
                               SmallVector<int64_t>(nScanOut, 0))
                         : listAttr("scan_output_directions", nScanOut);
  auto outAxes = batched ? FailureOr<SmallVector<int64_t>>(
                               SmallVector<int64_t>(nScanOut, 0))
                         : listAttr("scan_output_axes", nScanOut);
  if (failed(inDirs) || failed(inAxes) || failed(outDirs) || failed(outAxes))
    return failure();

  // Scan 8: the body runs per batch entry; drop the batch axis first.
  int64_t batch = 1;
  if (batched) {
    if (rankOf(ins[0]) < 1)
      return nodeError() << "Scan 8 inputs need a batch axis", failure();
    batch = shapeOf(ins[0])[0];
    for (const Entry &e : ins)
      if (rankOf(e) < (1 + (&e - ins.begin() >= nState)) ||
          shapeOf(e)[0] != batch)
        return nodeError() << "Scan 8 inputs must share the batch size "
                           << batch,
               failure();
  }
  /// Position `k` along `axis` of `v`, without that axis.
  auto at = [&](Value v, int64_t axis, int64_t k) {
    auto s = cast<RankedTensorType>(v.getType()).getShape();
    SmallVector<int64_t> off(s.size(), 0), str(s.size(), 1), sz(s);
    off[axis] = k;
    sz[axis] = 1;
    SmallVector<int64_t> shape(s);
    shape.erase(shape.begin() + axis);
    return emitReshape(emitSlice(v, off, str, sz), shape);
  };
  SmallVector<SmallVector<Entry>> stateOuts(nState), scanOuts(nScanOut);
  for (int64_t bi = 0; bi < batch; ++bi) {
    SmallVector<Entry> state, scanIn;
    for (int64_t k = 0; k < static_cast<int64_t>(ins.size()); ++k) {
      Entry e = ins[k];
      if (batched) {
        Value v = valueOf(e);
        if (!v)
          return failure();
        e = Entry{nullptr, at(v, 0, bi)};
      }
      (k < nState ? state : scanIn).push_back(e);
    }
    // The scan length: every scan input's extent along its axis.
    int64_t T = -1;
    SmallVector<int64_t> axes;
    for (int64_t k = 0; k < nScanIn; ++k) {
      int64_t rank = rankOf(scanIn[k]);
      auto a = normAxis((*inAxes)[k], rank);
      if (failed(a))
        return failure();
      axes.push_back(*a);
      int64_t n = shapeOf(scanIn[k])[*a];
      if (T >= 0 && n != T)
        return nodeError() << "scan inputs have different lengths (" << T
                           << " and " << n << ")",
               failure();
      T = n;
    }
    if (T == 0 && nScanOut)
      return nodeError() << "scan outputs of an empty scan are not supported "
                            "(their shape is unknown)",
             failure();
    if (T > kMaxUnrolledIterations)
      return nodeError() << "a scan of " << T << " steps (more than "
                         << kMaxUnrolledIterations << ")",
             failure();
    SmallVector<SmallVector<Entry>> steps(nScanOut);
    for (int64_t t = 0; t < T; ++t) {
      SmallVector<Entry> args(state);
      for (int64_t k = 0; k < nScanIn; ++k) {
        Value v = valueOf(scanIn[k]);
        if (!v)
          return failure();
        args.push_back({nullptr, at(v, axes[k], (*inDirs)[k] ? T - 1 - t : t)});
      }
      SmallVector<Entry> res;
      if (failed(importBody(*body, args, res)))
        return failure();
      for (int64_t k = 0; k < nState; ++k)
        state[k] = res[k];
      for (int64_t k = 0; k < nScanOut; ++k)
        steps[k].push_back(res[nState + k]);
    }
    for (int64_t k = 0; k < nState; ++k)
      stateOuts[k].push_back(state[k]);
    for (int64_t k = 0; k < nScanOut; ++k) {
      int64_t rank = rankOf(steps[k][0]) + 1;
      auto a = normAxis((*outAxes)[k], rank);
      if (failed(a))
        return failure();
      Value v = emitStack(steps[k], *a, (*outDirs)[k] != 0);
      if (!v)
        return failure();
      scanOuts[k].push_back(Entry{nullptr, v});
    }
  }
  auto finish = [&](ArrayRef<Entry> perBatch, Entry &o) -> LogicalResult {
    if (!batched) {
      o = perBatch[0];
      return success();
    }
    Value v = emitStack(perBatch, 0, false);
    if (!v)
      return failure();
    o.value = v;
    return success();
  };
  for (int64_t k = 0; k < nState; ++k)
    if (failed(finish(stateOuts[k], out[k])))
      return failure();
  for (int64_t k = 0; k < nScanOut; ++k)
    if (failed(finish(scanOuts[k], out[nState + k])))
      return failure();
  return success();
}

} // namespace umbra::onnx_import
