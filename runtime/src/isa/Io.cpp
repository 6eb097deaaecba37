//===- Io.cpp - share, reveal, copy: data crossing between roles ----------===//
#include "Rows.h"

namespace umbra::rt::isa {

static std::vector<double> identity(const RealArgs &a) { return *a.in[0]; }

static const OpRow kShare{
    Op::Share,
    1,
    1,
    false,
    [](const Attrs &, const Ins &in, const SlotInfo *) {
      UMBRA_CHECK(isPrivate(in[0]->vis), "share: operand '", in[0]->name,
                  "' must be client or owner");
      SlotInfo o = like(*in[0]);
      o.vis = Vis::Shared;
      return o;
    },
    [](const ExecArgs &a) {
      Role owner = holderOf(a.P, a.inSlot[0]->vis);
      Vec plain;
      if (a.P.role == owner)
        plain = a.in(0);
      ExecResult r{shareInput(a.P, owner, plain, a.n())};
      // The thin client shares its values but holds no share.
      if (a.P.role == Role::Client)
        r.known = false;
      return r;
    },
    identity,
    [](const CostArgs &a, CostAcc &c) { cost::oneWay(c, a.out.numel); }};

static const OpRow kReveal{
    Op::Reveal,
    1,
    1,
    false,
    [](const Attrs &at, const Ins &in, const SlotInfo *) {
      const SlotInfo &x = *in[0];
      UMBRA_CHECK(x.vis == Vis::Shared, "reveal: operand '", x.name, "' is ",
                  visName(x.vis),
                  (isPrivate(x.vis)
                       ? "-private: its holder knows it already, and nobody "
                         "else may learn it"
                       : ": there is nothing to reveal"));
      auto to = at.AsReveal()->to;
      UMBRA_CHECK(int(to) >= 0 && int(to) <= int(RevealTo::MAX),
                  "reveal: bad target ", int(to));
      SlotInfo o = like(x);
      o.vis = Vis::Public;
      return o;
    },
    [](const ExecArgs &a) {
      RevealTo to = a.I.attrs.AsReveal()->to;
      // The thin client holds no share: it receives both.
      ExecResult r{reveal(a.P, a.P.role == Role::Client ? Vec(a.n()) : a.in(0),
                          to)};
      // No data back means another party is the recipient (an empty tensor
      // is known to everyone).
      if (a.n() > 0 && r.data.empty() && !a.P.dealer())
        r.known = false;
      if (a.P.dealer() && to != RevealTo::BothAndDealer)
        r.data.assign(a.n(), 0);
      return r;
    },
    identity,
    [](const CostArgs &a, CostAcc &c) {
      RevealTo to = a.I.attrs.AsReveal()->to;
      if (to == RevealTo::Both || to == RevealTo::BothAndDealer)
        cost::open(c, a.out.numel);
      else
        cost::oneWay(c, a.out.numel);
    }};

static const OpRow kCopy{
    Op::Copy,
    1,
    1,
    false,
    [](const Attrs &, const Ins &in, const SlotInfo *) { return like(*in[0]); },
    [](const ExecArgs &a) { return ExecResult{a.in(0)}; },
    identity,
    nullptr};

const std::vector<OpRow> &ioRows() {
  static const std::vector<OpRow> rows{kShare, kReveal, kCopy};
  return rows;
}

} // namespace umbra::rt::isa
