"""Circuits proposed from the data: what the DRT (:mod:`echem.eis.drt`) shows, as equivalent
circuits with starting values, for the BIC choice (:func:`echem.eis.select_circuit`).

* one R‖CPE per DRT peak within the measured frequencies (at most :data:`MAX_ARCS`, the
  largest), fastest first: ``p(R1,CPE1)-p(R2,CPE2)-...``; starting values R = the peak's
  resistance (its area), Q = τⁿ/R with τ its position and n its Cole–Cole width (at least
  :data:`N_MIN`: the regularisation broadens peaks);
* a series resistor ``R0`` when the DRT's R∞ is more than
  :data:`~echem.eis.select.HF_INTERCEPT_MIN_FRACTION` of max|Z| (start: R∞), none otherwise
  (a film between blocking electrodes);
* a low-frequency diffusion tail (:func:`echem.eis.drt.lf_tail`: 30–60° in the Nyquist
  plane, or a Warburg term carrying more than :data:`TAIL_SHARE` of |Z| at the lowest
  frequency): the same arcs with ``-W1`` (semi-infinite) and with ``-Wo1`` (finite space);
  start A_W from the DRT's Warburg term;
* a blocking tail (steeper than 60°, or a series CPE/capacitor term carrying more than
  :data:`TAIL_SHARE`): the arcs with a series ``CPE``; start Q, n from the DRT's tail term;
* an inductive high-frequency end (Z'' > 0 at f_max and the DRT's ωL above :data:`L_SHARE`
  of |Z| there): an ``L0`` in front (where the three highest points are inductive the
  choice adds it to every candidate anyway).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: At most this many arcs in a proposed circuit (the largest DRT peaks).
MAX_ARCS = 4
#: Lower limit of a proposed CPE exponent.
N_MIN = 0.6
#: A tail term of the DRT carrying more than this fraction of |Z| at the lowest frequency is
#: a tail of the spectrum.
TAIL_SHARE = 0.05
#: ωL above this fraction of |Z| at the highest frequency is an inductive end.
L_SHARE = 0.01
#: The DRT's R∞ above this fraction of max|Z| is a series resistance.
RS_MIN_FRACTION = 0.02


@dataclass(frozen=True)
class Proposal:
    """A circuit the data suggest, its starting values (impedance.py order) and why."""

    circuit: str
    start: tuple[float, ...]
    why: str

    def to_dict(self) -> dict:
        return {"circuit": self.circuit, "start": list(self.start), "why": self.why}


def propose_circuits(drt) -> list[Proposal]:
    """Circuits for the choice from a :class:`~echem.eis.drt.DRTResult` (module docstring);
    empty when the DRT has no peak within the measured frequencies."""
    peaks = sorted(drt.resolved, key=lambda p: -p.R_ohm)[:MAX_ARCS]
    peaks = sorted(peaks, key=lambda p: p.tau_s)
    if not peaks:
        return []
    f = np.asarray(drt.freq_Hz, float)
    Z = np.asarray(drt.Z, complex)
    w_min, w_max = 2 * math.pi * float(f.min()), 2 * math.pi * float(f.max())
    z_lo = float(np.abs(Z[np.argmin(f)]))
    z_hi = float(np.abs(Z[np.argmax(f)]))
    zmax = float(np.max(np.abs(Z)))

    chain: list[str] = []
    start: list[float] = []
    why = [f"{len(peaks)} DRT peak{'s' if len(peaks) > 1 else ''} at tau = "
           + ", ".join(f"{p.tau_s:.3g}" for p in peaks) + " s"]
    top = int(np.argmax(f))
    if Z[top].imag > 0 and drt.L_H * w_max > L_SHARE * z_hi:
        chain.append("L0")
        start.append(float(drt.L_H))
        why.append(f"inductive high-frequency end (omega L = {100 * drt.L_H * w_max / z_hi:.2g} % of |Z|)")
    if drt.R_inf_ohm > RS_MIN_FRACTION * zmax:
        chain.append("R0")
        start.append(float(drt.R_inf_ohm))
    for k, p in enumerate(peaks, start=1):
        n = min(max(p.n, N_MIN), 0.99)
        chain.append(f"p(R{k},CPE{k})")
        start += [float(p.R_ohm), float(p.tau_s ** n / p.R_ohm), float(n)]
    base, base_start = "-".join(chain), list(start)

    out = [Proposal(base, tuple(base_start), "; ".join(why))]
    tail = drt.audit.get("lf_tail", {}) or {}
    w_share = drt.A_W * math.sqrt(2.0 / w_min) / z_lo if z_lo > 0 else 0.0
    t_share = (1.0 / (drt.Q_tail * w_min ** drt.n_tail)) / z_lo if math.isfinite(drt.Q_tail) and z_lo > 0 else 0.0
    if tail.get("kind") == "diffusion" or w_share > TAIL_SHARE:
        A_W = drt.A_W if drt.A_W > 0 else float(abs(Z[np.argmin(f)].imag)) * math.sqrt(w_min)
        reason = (f"diffusion tail ({tail['angle_deg']:.0f}° at the lowest frequencies)" if tail.get("kind") == "diffusion"
                  else f"Warburg term of the DRT ({100 * w_share:.2g} % of |Z| at f_min)")
        out.append(Proposal(base + "-W1", tuple(base_start + [A_W]), "; ".join(why + [reason])))
        tau_w = 10.0 / w_min
        out.append(Proposal(base + "-Wo1", tuple(base_start + [A_W * math.sqrt(2 * tau_w), tau_w]),
                            "; ".join(why + [reason, "finite-space variant"])))
    if tail.get("kind") == "blocking" or (t_share > TAIL_SHARE and drt.n_tail < 1.0):
        k = len(peaks) + 1
        if math.isfinite(drt.Q_tail):
            Q, n = drt.Q_tail, drt.n_tail
        else:
            n = min(max((tail.get("angle_deg") or 80.0) / 90.0, 0.5), 1.0)
            Q = 1.0 / (z_lo * w_min ** n)
        reason = (f"blocking tail ({tail['angle_deg']:.0f}° at the lowest frequencies)" if tail.get("kind") == "blocking"
                  else f"series CPE term of the DRT ({100 * t_share:.2g} % of |Z| at f_min)")
        out.append(Proposal(f"{base}-CPE{k}", tuple(base_start + [float(Q), float(n)]), "; ".join(why + [reason])))
    return out
