//===- GraphImport.cpp - ONNX graph walk, opset and dispatch --------------===//
//
// Walks the graph in order: checks the opset and that every node's operator
// is in the op table (OnnxOps.def), binds graph inputs (static shapes, with
// --input-shape overrides) and initializers (with their roles), translates
// node by node through the table's dispatch, and cross-checks the computed
// shapes against ONNX shape inference.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "umbra/runtime/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <map>

using namespace mlir;

namespace umbra::onnx_import {

//===----------------------------------------------------------------------===//
// The op table
//===----------------------------------------------------------------------===//

llvm::ArrayRef<OpInfo> supportedOps() {
  static const OpInfo table[] = {
#define ONNX_OP(Name, Since, Family, Call, Form)                               \
  {"", #Name, Since, #Family, Form},
#define ONNX_DOMAIN_OP(Domain, Name, Since, Family, Call, Form)                \
  {Domain, #Name, Since, #Family, Form},
#include "OnnxOps.def"
  };
  return table;
}

/// The default domain is "" (also spelled "ai.onnx" in models).
static StringRef canonicalDomain(StringRef domain) {
  return domain == "ai.onnx" ? StringRef() : domain;
}

/// "Domain.Name", or "Name" in the default domain: the key of an op.
static std::string opKey(StringRef domain, StringRef opType) {
  domain = canonicalDomain(domain);
  return domain.empty() ? opType.str() : (domain + "." + opType).str();
}

const OpInfo *lookupOp(StringRef domain, StringRef opType) {
  static const llvm::StringMap<const OpInfo *> index = [] {
    llvm::StringMap<const OpInfo *> m;
    for (const OpInfo &op : supportedOps())
      m[opKey(op.domain, op.name)] = &op;
    return m;
  }();
  return index.lookup(opKey(domain, opType));
}

LogicalResult Importer::dispatch(Ins in, Outs out) {
  using Handler = LogicalResult (*)(Importer &, Ins, Outs);
  static const llvm::StringMap<Handler> handlers = {
#define ONNX_OP(Name, Since, Family, Call, Form)                               \
  {#Name, [](Importer &self, Ins in, Outs out) { return self.Call; }},
#define ONNX_DOMAIN_OP(Domain, Name, Since, Family, Call, Form)                \
  {opKey(Domain, #Name),                                                       \
   [](Importer &self, Ins in, Outs out) { return self.Call; }},
#include "OnnxOps.def"
  };
  StringRef op = node->op_type();
  // Every handler writes its first result (a fuzzed Constant had none).
  if (out.empty())
    return nodeError() << "has no outputs", failure();
  // Every op but Constant needs its first input (Loop's trip count and
  // Scan 8's sequence_lens are optional).
  if (op != "Constant" && op != "Loop" && op != "Scan" &&
      (in.empty() || !in[0]))
    return nodeError() << "missing first input", failure();
  return handlers.lookup(opKey(node->domain(), op))(*this, in, out);
}

/// Every node must be in the table at the model's opset: reports the first
/// that is not, and every unsupported kind in the model.
LogicalResult Importer::checkOpsSupported(const onnx::GraphProto &g) {
  llvm::StringSet<> unsupported;
  const onnx::NodeProto *first = nullptr;
  auto opsetOf = [&](StringRef domain) {
    auto it = opsets.find(canonicalDomain(domain));
    return it == opsets.end() ? int64_t(-1) : it->second;
  };
  for (const auto &n : g.node()) {
    const OpInfo *info = lookupOp(n.domain(), n.op_type());
    if (info && opsetOf(n.domain()) >= info->sinceOpset)
      continue;
    if (unsupported.insert(opKey(n.domain(), n.op_type())).second && !first)
      first = &n;
  }
  if (!first)
    return success();
  StringRef domain = canonicalDomain(first->domain());
  auto diag = emitError(fileLoc)
              << "unsupported operator '" << first->op_type() << "' (node '"
              << (first->name().empty() && first->output_size()
                      ? first->output(0)
                      : first->name())
              << "', domain '" << (domain.empty() ? "ai.onnx" : domain)
              << "', opset " << opsetOf(domain) << ")";
  if (const OpInfo *info = lookupOp(domain, first->op_type()))
    diag << "; it is supported from opset " << info->sinceOpset;
  // Ops whose result's shape is a function of the values: a program over
  // secret data has static shapes, so these would reveal the data.
  static const llvm::StringSet<> dataDependentShape = {
      "NonZero", "Unique", "NonMaxSuppression"};
  if (domain.empty() && dataDependentShape.contains(first->op_type()))
    diag << "; its output shape depends on the input values, which a "
            "program on secret data cannot reveal";
  if (unsupported.size() > 1) {
    SmallVector<std::string> others;
    for (const auto &k : unsupported.keys())
      others.push_back(k.str());
    llvm::sort(others);
    diag << "; unsupported operators in this model: "
         << llvm::join(others, ", ");
  }
  return failure();
}

//===----------------------------------------------------------------------===//
// Graph walk
//===----------------------------------------------------------------------===//

LogicalResult Importer::importNode(onnx::NodeProto &n) {
  node = &n;
  nodeLabel = n.name().empty() ? (n.output_size() ? n.output(0) : n.op_type())
                               : n.name();
  loc = NameLoc::get(b.getStringAttr(nodeLabel), fileLoc);
  SmallVector<Entry> ins;
  for (const std::string &name : n.input()) {
    if (name.empty()) {
      ins.push_back(Entry());
      continue;
    }
    auto it = values.find(name);
    if (it == values.end())
      return nodeError() << "input '" << name
                         << "' is not defined before this node (the graph "
                            "must be topologically sorted)",
             failure();
    ins.push_back(it->second);
  }
  currentIns = ins;
  SmallVector<Entry> outs(n.output_size());
  if (failed(dispatch(ins, outs)))
    return failure();
  // Provenance of the constants this node computed, in one place for every
  // handler: the union of its constant inputs' (an owner input makes an
  // owner source), a shape's own (it depends on no values), or, with no
  // constant input, the node's own literal.
  bool shapeOnly = n.op_type() == "Shape" || n.op_type() == "Size";
  mpc::SourceMap derived = shapeOnly ? mpc::SourceMap() : sourcesOf(ins);
  for (int k = 0; k < n.output_size(); ++k) {
    if (!outs[k].cst || !outs[k].cst->sources.empty() || n.output(k).empty())
      continue;
    outs[k].cst->sources = derived;
    if (derived.empty())
      outs[k].cst->sources = {
          {n.output(k), ruleOrigin(outs[k].cst->dtype).str()}};
  }
  for (int k = 0; k < n.output_size(); ++k) {
    const std::string &name = n.output(k);
    if (name.empty())
      continue;
    if (!outs[k]) {
      if (useCount.lookup(name) || graphOutputs.contains(name))
        return nodeError() << "output " << k << " ('" << name
                           << "') is not supported",
               failure();
      continue;
    }
    if (std::string why = beyondRuntimeLimits(shapeOf(outs[k])); !why.empty())
      return nodeError() << "output " << k << " ('" << name << "'): " << why,
             failure();
    if (outs[k].cst && outs[k].cst->name.empty())
      outs[k].cst->name = name;
    if (opts.checkInferredShapes)
      computed.push_back(
          {name, SmallVector<int64_t>(shapeOf(outs[k])),
           "'" + node->op_type() + "' node '" + nodeLabel + "'"});
    values[name] = outs[k];
  }
  return success();
}

/// A graph input given by --const-input: the .npy's values, checked
/// against the input's declared type and shape, as a public constant.
ConstPtr Importer::constInput(const onnx::ValueInfoProto &vi,
                              const std::string &path) {
  const auto &tt = vi.type().tensor_type();
  int32_t dtype = tt.elem_type();
  auto fail = [&](const llvm::Twine &msg) -> ConstPtr {
    emitError(fileLoc) << "--const-input " << vi.name() << "=" << path << ": "
                       << msg;
    return nullptr;
  };
  rt::NpyArray npy;
  try {
    npy = rt::readNpy(path);
  } catch (const std::exception &e) {
    return fail(e.what());
  }
  SmallVector<int64_t> shape(npy.shape.begin(), npy.shape.end());
  if (tt.has_shape()) {
    if (tt.shape().dim_size() != static_cast<int>(shape.size()))
      return fail("the array has rank " + llvm::Twine(shape.size()) +
                  " but the input has rank " +
                  llvm::Twine(tt.shape().dim_size()));
    for (int d = 0; d < tt.shape().dim_size(); ++d)
      if (tt.shape().dim(d).has_dim_value() &&
          tt.shape().dim(d).dim_value() != shape[d])
        return fail("the array has shape " + shapeStr(shape) +
                    " but the input has dimension " + llvm::Twine(d) + " = " +
                    llvm::Twine(tt.shape().dim(d).dim_value()));
  }
  if (std::string why = beyondRuntimeLimits(shape); !why.empty())
    return fail(why);
  ceval::Tensor t;
  t.shape = shape;
  if (isFloatDT(dtype)) {
    t.data = std::move(npy.data);
  } else {
    std::vector<int64_t> ints;
    ints.reserve(npy.data.size());
    for (double v : npy.data) {
      if (v != std::floor(v) || std::abs(v) > 9007199254740992.0 ||
          (isBoolDT(dtype) && v != 0 && v != 1))
        return fail("value " + llvm::Twine(std::to_string(v)) + " is not a " +
                    dtName(dtype) + " (the input's element type)");
      ints.push_back(static_cast<int64_t>(v));
    }
    t.data = std::move(ints);
  }
  ConstPtr c = makeConst(dtype, std::move(t), Role::Public);
  c->name = vi.name();
  c->sources = {{vi.name(), "--const-input"}};
  return c;
}

/// The newest default-domain opset the linked ONNX library has schemas for.
static int64_t onnxLibraryMaxOpset() {
  const auto &map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(onnx::ONNX_DOMAIN);
  return it == map.end() ? 0 : it->second.second;
}

/// Static shape of a ValueInfo's tensor type, if every dimension is known.
static std::optional<SmallVector<int64_t>> staticShape(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return std::nullopt;
  SmallVector<int64_t> s;
  for (const auto &d : type.tensor_type().shape().dim()) {
    if (!d.has_dim_value())
      return std::nullopt;
    s.push_back(d.dim_value());
  }
  return s;
}

/// Runs ONNX shape inference (with data propagation, on the static input
/// shapes) and reports the first value whose inferred static shape differs
/// from the one the importer computed.
LogicalResult Importer::crossCheckShapes(onnx::ModelProto &model) {
  onnx::GraphProto &g = *model.mutable_graph();
  g.clear_value_info();
  std::map<std::string, SmallVector<int64_t>> inferred;
  try {
    onnx::ShapeInferenceOptions sio(/*check_type=*/false, /*strict_mode=*/0,
                                    /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model,
                                       onnx::OpSchemaRegistry::Instance(), sio);
    for (const auto &vi : g.value_info())
      if (auto s = staticShape(vi.type()))
        inferred[vi.name()] = *s;
  } catch (const std::exception &) {
    // Best effort: the importer computes every shape itself.
    return success();
  }
  for (const ComputedShape &c : computed) {
    auto it = inferred.find(c.name);
    if (it != inferred.end() && llvm::ArrayRef<int64_t>(it->second) !=
                                    llvm::ArrayRef<int64_t>(c.shape)) {
      emitError(fileLoc) << c.node << ": computed shape " << shapeStr(c.shape)
                         << " for '" << c.name
                         << "' but ONNX shape inference infers "
                         << shapeStr(it->second);
      return failure();
    }
  }
  return success();
}

/// Every tensor name is written once (by a graph input, an initializer or
/// one node output; an ONNX graph that writes a name twice is invalid, and
/// keeping either writer would be a silent guess), every graph output is
/// listed once, and input and output names are plain file names (the
/// runtime reads inputs by name and writes outputs as NAME.npy).
LogicalResult Importer::checkNames(const onnx::GraphProto &g,
                                   ArrayRef<std::string> inputNames) {
  llvm::StringMap<std::string> writer;
  for (const std::string &name : inputNames)
    writer[name] = "graph input '" + name + "'";
  for (const auto &t : g.initializer())
    if (!writer.try_emplace(t.name(), "initializer '" + t.name() + "'")
             .second) {
      emitError(fileLoc) << "initializer '" << t.name()
                         << "' is defined twice (by "
                         << writer.lookup(t.name()) << " too)";
      return failure();
    }
  for (const auto &n : g.node())
    for (const std::string &name : n.output()) {
      if (name.empty())
        continue;
      std::string label = n.name().empty() ? name : n.name();
      auto [it, fresh] = writer.try_emplace(
          name, "'" + n.op_type() + "' node '" + label + "'");
      if (!fresh) {
        emitError(fileLoc) << "'" << n.op_type() << "' node '" << label
                           << "' writes '" << name << "', which "
                           << it->second
                           << " already defines; a tensor name must be "
                              "written once";
        return failure();
      }
    }
  llvm::StringSet<> outputs;
  for (const auto &o : g.output())
    if (!outputs.insert(o.name()).second) {
      emitError(fileLoc) << "graph output '" << o.name()
                         << "' is listed twice; output names must be unique";
      return failure();
    }
  auto badName = [&](const char *kind, const std::string &name) {
    std::string why = notAFileName(name);
    if (why.empty())
      return false;
    std::string shown = name.size() > 64 ? name.substr(0, 64) + "..." : name;
    std::replace(shown.begin(), shown.end(), '\0', '?');
    emitError(fileLoc) << "graph " << kind << " name '" << shown << "' "
                       << why;
    return true;
  };
  for (const std::string &name : inputNames)
    if (badName("input", name))
      return failure();
  for (const auto &o : g.output())
    if (badName("output", o.name()))
      return failure();
  return success();
}

OwningOpRef<ModuleOp> Importer::run(onnx::ModelProto &model) {
  // Opset of each domain; the default domain's is `opset`. A model of
  // another domain's ops only (the training optimizers) needs no default.
  opsets.clear();
  for (const auto &o : model.opset_import())
    opsets[canonicalDomain(o.domain())] = o.version();
  opset = opsets.lookup("");
  bool usesDefault = llvm::any_of(model.graph().node(), [](const auto &n) {
    return canonicalDomain(n.domain()).empty();
  });
  if (!opsets.count("") && usesDefault) {
    emitError(fileLoc) << "the model imports no opset of the default ONNX "
                          "domain";
    return {};
  }
  if (opsets.count("") && (opset < kMinOpset || opset > kMaxOpset)) {
    emitError(fileLoc) << "unsupported opset version " << opset
                       << " of the default ONNX domain; supported versions "
                          "are "
                       << kMinOpset << " to " << kMaxOpset;
    return {};
  }
  onnx::GraphProto &g = *model.mutable_graph();

  if (failed(checkOpsSupported(g)))
    return {};

  llvm::StringSet<> initNames;
  for (const auto &t : g.initializer())
    initNames.insert(t.name());

  // Graph inputs: static shapes, with the user's overrides.
  llvm::StringMap<SmallVector<int64_t>> overrides;
  for (const auto &[name, shape] : opts.inputShapes)
    overrides[name] = shape;
  SmallVector<std::string> argNames;
  SmallVector<Type> argTypes;
  SmallVector<std::string> inputNames;
  for (const auto &vi : g.input())
    if (!initNames.contains(vi.name()))
      inputNames.push_back(vi.name());
  for (const auto &[name, shape] : opts.inputShapes) {
    if (!llvm::is_contained(inputNames, name)) {
      emitError(fileLoc) << "--input-shape names unknown input '" << name
                         << "'; the graph inputs are: "
                         << llvm::join(inputNames, ", ");
      return {};
    }
  }
  llvm::StringMap<std::string> constInputs;
  for (const auto &[name, path] : opts.constInputs) {
    if (!llvm::is_contained(inputNames, name)) {
      emitError(fileLoc) << "--const-input names unknown input '" << name
                         << "'; the graph inputs are: "
                         << llvm::join(inputNames, ", ");
      return {};
    }
    constInputs[name] = path;
  }
  for (auto &vi : *g.mutable_input()) {
    if (initNames.contains(vi.name()))
      continue;
    if (!vi.type().has_tensor_type()) {
      emitError(fileLoc) << "graph input '" << vi.name() << "' is not a tensor";
      return {};
    }
    auto *tt = vi.mutable_type()->mutable_tensor_type();
    onnxTypes[vi.name()] = tt->elem_type();
    Type et = mlirElemType(ctx, tt->elem_type());
    if (!et) {
      emitError(fileLoc) << "graph input '" << vi.name()
                         << "' has unsupported element type "
                         << dtName(tt->elem_type());
      return {};
    }
    if (auto it = constInputs.find(vi.name()); it != constInputs.end()) {
      ConstPtr c = constInput(vi, it->second);
      if (!c)
        return {};
      values[vi.name()].cst = c;
      continue;
    }
    auto ov = overrides.find(vi.name());
    if (ov != overrides.end()) {
      if (tt->has_shape() &&
          tt->shape().dim_size() != static_cast<int>(ov->second.size())) {
        emitError(fileLoc) << "--input-shape " << vi.name() << " has rank "
                           << ov->second.size() << " but the input has rank "
                           << tt->shape().dim_size();
        return {};
      }
      if (tt->has_shape())
        for (int d = 0; d < tt->shape().dim_size(); ++d) {
          const auto &dim = tt->shape().dim(d);
          if (dim.has_dim_value() && dim.dim_value() != ov->second[d]) {
            emitError(fileLoc)
                << "--input-shape " << vi.name() << " sets dimension " << d
                << " to " << ov->second[d] << " but the model fixes it to "
                << dim.dim_value();
            return {};
          }
        }
      auto *shape = tt->mutable_shape();
      shape->clear_dim();
      for (int64_t d : ov->second)
        shape->add_dim()->set_dim_value(d);
      overrides.erase(ov);
    }
    if (tt->has_shape())
      for (auto &dim : *tt->mutable_shape()->mutable_dim())
        for (const auto &[param, value] : opts.dimParams)
          if (dim.has_dim_param() && dim.dim_param() == param)
            dim.set_dim_value(value);
    if (!tt->has_shape()) {
      emitError(fileLoc) << "graph input '" << vi.name()
                         << "' has an unknown rank; give its shape with "
                            "--input-shape "
                         << vi.name() << "=<d0>x<d1>...";
      return {};
    }
    SmallVector<int64_t> shape;
    for (int d = 0; d < tt->shape().dim_size(); ++d) {
      const auto &dim = tt->shape().dim(d);
      if (!dim.has_dim_value() || dim.dim_value() < 0) {
        emitError(fileLoc)
            << "graph input '" << vi.name() << "' has dynamic dimension " << d
            << (dim.has_dim_param() ? " ('" + dim.dim_param() + "')" : "")
            << "; fix it with --input-shape " << vi.name() << "=<d0>x<d1>...";
        return {};
      }
      shape.push_back(dim.dim_value());
    }
    if (!validDims(shape)) {
      emitError(fileLoc) << "graph input '" << vi.name()
                         << "' has an invalid shape";
      return {};
    }
    if (std::string why = beyondRuntimeLimits(shape); !why.empty()) {
      emitError(fileLoc) << "graph input '" << vi.name() << "': " << why;
      return {};
    }
    argNames.push_back(vi.name());
    argTypes.push_back(RankedTensorType::get(shape, et));
  }

  if (failed(checkNames(g, inputNames)))
    return {};

  for (const auto &n : g.node())
    for (const auto &name : n.input())
      if (!name.empty())
        ++useCount[name];
  for (const auto &o : g.output()) {
    graphOutputs.insert(o.name());
    ++useCount[o.name()];
  }

  OwningOpRef<ModuleOp> module(ModuleOp::create(fileLoc));
  // What the model was fine-tuned with (python/umbra_models/approx.py):
  // mpc-approximate's default.
  for (const auto &p : model.metadata_props())
    if (p.key() == "umbra.approximations")
      (*module)->setAttr("umbra.approximations", b.getStringAttr(p.value()));
  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(b, fileLoc, opts.funcName,
                                   b.getFunctionType(argTypes, {}));
  if (!g.name().empty())
    func->setAttr("onnx.graph_name", b.getStringAttr(g.name()));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  for (auto [k, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(k, "onnx.name", b.getStringAttr(name));
    values[name].value = entry->getArgument(k);
  }
  for (auto &t : *g.mutable_initializer()) {
    if (!validDims(SmallVector<int64_t>(t.dims().begin(), t.dims().end()))) {
      emitError(fileLoc) << "initializer '" << t.name()
                         << "' has invalid dimensions";
      return {};
    }
    if (std::string why = beyondRuntimeLimits(
            SmallVector<int64_t>(t.dims().begin(), t.dims().end()));
        !why.empty()) {
      emitError(fileLoc) << "initializer '" << t.name() << "': " << why;
      return {};
    }
    if (!mlirElemType(ctx, t.data_type())) {
      emitError(fileLoc) << "initializer '" << t.name()
                         << "' has unsupported element type "
                         << dtName(t.data_type());
      return {};
    }
    // Float initializers are the model owner's weights; integer and bool
    // ones are shapes, indices and masks (the public architecture).
    ConstPtr c = constFromProto(
        t, isFloatDT(t.data_type()) ? Role::Owner : Role::Public);
    c->sources = {{t.name(), isFloatDT(t.data_type())
                                 ? mpc::kOwnerOrigin.str()
                                 : ruleOrigin(t.data_type()).str()}};
    values[t.name()].cst = c;
  }

  for (auto &n : *g.mutable_node())
    if (failed(importNode(n)))
      return {};
  if (failed(importPredictors(g, fileLoc)))
    return {};
  // Only graphs the importer accepted reach ONNX shape inference: on some
  // ill-typed graphs ONNX 1.12's inference crashes instead of reporting. An
  // opset newer than the ONNX library's would be inferred with older
  // schemas (ReduceMean-13 ignores an opset-18 axes input): not checked.
  if (opts.checkInferredShapes && opset <= onnxLibraryMaxOpset() &&
      failed(crossCheckShapes(model)))
    return {};

  loc = fileLoc;
  currentIns.clear();
  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &o : g.output()) {
    auto it = values.find(o.name());
    if (it == values.end()) {
      emitError(fileLoc) << "graph output '" << o.name()
                         << "' is never computed";
      return {};
    }
    Value v = valueOf(it->second);
    if (!v)
      return {};
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(b, fileLoc, results);
  func.setFunctionType(b.getFunctionType(argTypes, resultTypes));
  for (auto [k, o] : llvm::enumerate(g.output())) {
    func.setResultAttr(k, "onnx.name", b.getStringAttr(o.name()));
    // An integer output keeps its ONNX signedness (tensors are signless).
    if (Type t = integerOutputType(ctx, o.type().tensor_type().elem_type()))
      func.setResultAttr(k, "onnx.element_type", TypeAttr::get(t));
  }
  return module;
}

/// The activation predictors a model ships as initializers
/// umbra.predictor.<k>.{u,v,bias,threshold[,recall_table]}
/// (python/umbra_models/predictor.py): one tfm.ffn_predictor per k, at the
/// end of the function (mpc-insert-predictors attaches them to the FFNs).
LogicalResult Importer::importPredictors(const onnx::GraphProto &g,
                                         Location fileLoc) {
  static constexpr llvm::StringLiteral prefix = "umbra.predictor.";
  std::map<int64_t, llvm::StringMap<Value>> found;
  for (const auto &t : g.initializer()) {
    StringRef name = t.name();
    if (!name.consume_front(prefix))
      continue;
    auto [index, part] = name.split('.');
    int64_t k;
    if (index.getAsInteger(10, k) || k < 0 ||
        !llvm::is_contained({"u", "v", "bias", "threshold", "recall_table"},
                            part)) {
      emitError(fileLoc) << "initializer '" << t.name()
                         << "' is not a predictor part (umbra.predictor.<k>."
                            "u|v|bias|threshold|recall_table)";
      return failure();
    }
    // At the start of the function: the FFNs that will use them come first.
    Value v;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(b.getInsertionBlock());
      v = valueOf(values[t.name()]);
    }
    if (!v || !isa<FloatType>(cast<RankedTensorType>(v.getType())
                                  .getElementType())) {
      emitError(fileLoc) << "predictor initializer '" << t.name()
                         << "' must be a float tensor";
      return failure();
    }
    found[k][part] = v;
  }
  for (auto &[k, parts] : found) {
    for (StringRef part : {"u", "v", "bias", "threshold"})
      if (!parts.count(part)) {
        emitError(fileLoc) << "predictor " << k << " has no '" << part
                           << "' (umbra.predictor." << k << "." << part << ")";
        return failure();
      }
    auto op = tfm::FfnPredictorOp::create(
        b, fileLoc, parts["u"], parts["v"], parts["bias"], parts["threshold"],
        parts.lookup("recall_table"), b.getI64IntegerAttr(k));
    if (failed(mlir::verify(op))) {
      op->erase();
      return failure();
    }
  }
  return success();
}

} // namespace umbra::onnx_import
