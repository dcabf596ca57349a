"""Benchmark: echem.eis.fit_spectrum against a plain impedance.py fit on the corpus.

Every EIS spectrum of the corpus (``../shared/corpus`` or ``$ECHEM_CORPUS``; one
spectrum per cycle) is fitted with the default circuit (film circuit for the
Sheyigold solid-electrolyte files, catalyst circuit otherwise) in two ways:

* ``echem``: ``fit_spectrum(f, Z, circuit)`` with its automatic guess and Lin-KK
  check (the timing includes the KK test and the guess);
* ``impedance.py``: ``CustomCircuit(circuit, initial_guess=g).fit(f, Z,
  weight_by_modulus=True, maxfev=2000)`` with g = 1 for every parameter and 0.9 for
  CPE exponents, on the same (trimmed) points. impedance.py's default maxfev (1e5)
  runs for more than 5 minutes on some spectra; ``--maxfev 100000`` restores it.
  A reference that stops at maxfev without a result counts as a failure.

chi2 is :func:`echem.eis.chi2_modulus` for both. "success" means the fit returned
finite parameters with chi2 within 10x of the better of the two (i.e. it did not
stop in a clearly wrong minimum). Times are CPU seconds per spectrum (the machine
may be shared) with wall seconds beside them.

Automatic circuit selection (``select_circuit(f, Z)`` over
:data:`echem.eis.DEFAULT_CANDIDATES`, the workflow's path when no circuit is named)
is timed on the same spectra and on the demo spectra of ``raw/`` (synthetic EC-Lab,
Gamry and CSV exports: catalyst and solid-electrolyte film spectra); the chosen
circuit, its chi2 and the model evaluations of the whole choice are printed beside
the time, and every spectrum above the 0.5 s target is listed.

The distribution of relaxation times (:func:`echem.eis.drt.fit_drt`, target 50 ms per
spectrum) is timed on every spectrum that passes Lin-KK, and the circuit choice with the
DRT's proposals (the workflow's path, target 0.5 s median) beside the choice without them.
The known-answer spectra of ``tests/test_eis_drt.py`` (1–3 R‖CPE processes ± a Warburg
tail, 0.5 % noise) are run too: processes found, time constants within 10 %, arcs of the
chosen circuit, fits within the noise, times. ``--peer PATH[:PATH]`` adds folders holding
pyimpspec (``pip install --target PATH pyimpspec`` and, for TR-RBF, ``kvxopt``; not a
dependency of echem) and times its ``calculate_drt`` (TR-NNLS, TR-RBF) on the same spectra:
its peaks are the local maxima above 10 % of the highest (pyimpspec's own threshold rule).

Run: ``python benchmarks/eis_fit.py`` (add ``--repeat N`` to time N repetitions,
``--no-reference`` to skip the impedance.py fits, ``--no-demo`` / ``--no-select``
to skip the demo spectra / the selection timing, ``--only-drt`` for the DRT sections alone).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from echem import eis  # noqa: E402
from echem.io import read  # noqa: E402

CORPUS = Path(os.environ.get("ECHEM_CORPUS", ROOT.parent / "shared" / "corpus"))
EIS_TECHNIQUES = ("EIS", "PEIS", "GEIS", "ZIR")


def spectra_of(path):
    """(label, freq_Hz, Z) per cycle of one file."""
    parts = list(read(path).spectra())
    for part in parts:
        yield (f"#{part.cycle}" if len(parts) > 1 else ""), part.freq_Hz, part.Z


def demo_spectra():
    """(name, freq_Hz, Z) of every impedance spectrum of the demo data in raw/."""
    for path in sorted((ROOT / "raw").glob("*/*")):
        if path.name.startswith(("eis", "peis")) and path.suffix.lower() in (".mpt", ".csv", ".dta"):
            for label, f, Z in spectra_of(path):
                yield f"{path.parent.name}/{path.name}{label}", f, Z


def corpus_spectra():
    rows = list(csv.DictReader((CORPUS / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))
    seen = set()
    for row in rows:
        file = row["file"]
        if file in seen or not any(t in row["technique"] for t in EIS_TECHNIQUES):
            continue
        seen.add(file)
        try:
            groups = list(spectra_of(CORPUS / file))
        except Exception as exc:  # report, do not benchmark
            yield file, None, None, None, f"{type(exc).__name__}: {exc}"
            continue
        circuit = eis.FILM_CIRCUIT if file.startswith("Sheyigold_EISFitpython/") else eis.CATALYST_CIRCUIT
        for label, f, Z in groups:
            yield file + label, f, Z, circuit, None


def impedance_py_fit(f, Z, circuit, maxfev=2000):
    from impedance.models.circuits import CustomCircuit

    guess = [0.9 if k == "exp" else 1.0 for k in eis.circuit_model(circuit).kinds]
    cc = CustomCircuit(circuit, initial_guess=guess)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cc.fit(f, Z, weight_by_modulus=True, maxfev=maxfev)
        except RuntimeError:  # maximum number of function evaluations exceeded
            return np.nan, None
        return eis.chi2_modulus(Z, cc.predict(f), len(guess)), np.asarray(cc.parameters_)


def timed(fn, repeat):
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return out, (time.process_time() - c0) / repeat, (time.perf_counter() - w0) / repeat


def timed_select(f, Z, repeat):
    """(chosen circuit, its chi2 and the model evaluations, or error text; CPU s) of
    select_circuit with the default candidates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            (fit, _), cpu, _ = timed(lambda: eis.select_circuit(f, Z), repeat)
            search = fit.audit["selection"]["search"]
            budget = " budget-stopped" if search["budget_stopped"] else ""
            return f"{fit.circuit} (chi2 {fit.chi2:.3e}, {search['nfev']} evals{budget})", cpu
        except Exception as exc:  # noqa: BLE001 - a benchmark reports failures
            return f"error: {exc}"[:60], np.nan


SELECT_TARGET_S = 0.5  # issue 10: the whole candidate set for one spectrum
DRT_TARGET_S = 0.05  # issue 21: one DRT


def timed_select_plain(f, Z, repeat):
    """CPU s of select_circuit without the DRT's proposals (the fixed candidates only)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, cpu, _ = timed(lambda: eis.select_circuit(f, Z, proposals=False), repeat)
            return cpu
        except Exception:  # noqa: BLE001
            return np.nan


def timed_drt(f, Z, repeat):
    """(peaks within the measured range, CPU s) of fit_drt on a KK-valid spectrum, or (None, nan)."""
    from echem.eis.drt import fit_drt
    from echem.eis.spectrum import prepare
    from echem.eis.validation import kk_summary, lin_kk

    ff, zz, _ = prepare(f, Z)
    kk = lin_kk(ff, zz)
    if not kk_summary(kk)["ok"]:
        return None, np.nan
    try:
        drt, cpu, _ = timed(lambda: fit_drt(ff, zz, noise_chi2=kk.chi2), repeat)
        return drt, cpu
    except Exception:  # noqa: BLE001
        return None, np.nan


def peer_drt(f, Z, method):
    """(peak count, CPU s) of pyimpspec's calculate_drt, or (None, nan) without pyimpspec."""
    try:
        import pyimpspec
    except ImportError:
        return None, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pyimpspec.DataSet(frequencies=np.asarray(f, float), impedances=np.asarray(Z, complex))
            r, cpu, _ = timed(lambda: pyimpspec.calculate_drt(ds, method=method), 1)
            tau = r.get_peaks(threshold=0.1)[0]
            fmin, fmax = float(np.min(f)), float(np.max(f))
            inside = [t for t in tau if 1 / (2 * np.pi * fmax) <= t <= 1 / (2 * np.pi * fmin)]
            return len(inside), cpu
        except Exception:  # noqa: BLE001
            return None, np.nan


def drt_section(named_spectra, repeat, peer: bool):
    """The DRT (and the peer's) on every spectrum: one line each, then the summary."""
    print(f"{'spectrum':52s} {'DRT':>8s} {'peaks':>5s}" + (f" {'TR-NNLS':>9s} {'pk':>3s} {'TR-RBF':>9s} {'pk':>3s}"
                                                             if peer else ""))
    ours, nnls_t, rbf_t = [], [], []
    for name, f, Z in named_spectra:
        drt, cpu = timed_drt(f, Z, repeat)
        if drt is None:
            print(f"{name[:52]:52s} {'(fails Lin-KK or no DRT)':>30s}")
            continue
        ours.append(cpu)
        line = f"{name[:52]:52s} {cpu * 1000:6.1f}ms {len(drt.resolved):5d}"
        if peer:
            n1, c1 = peer_drt(f, Z, "tr-nnls")
            n2, c2 = peer_drt(f, Z, "tr-rbf")
            nnls_t.append(c1)
            rbf_t.append(c2)
            line += f" {c1 * 1000:7.1f}ms {n1 if n1 is not None else '-':>3} {c2 * 1000:7.1f}ms {n2 if n2 is not None else '-':>3}"
        print(line)
    print(summary("  DRT echem (fit_drt)", ours))
    slow = sum(t > DRT_TARGET_S for t in ours)
    print(f"  DRT: {slow} of {len(ours)} spectra above {DRT_TARGET_S * 1000:.0f} ms CPU")
    if peer and np.isfinite(nnls_t).any():
        print(summary("  pyimpspec TR-NNLS", nnls_t))
    if peer and np.isfinite(rbf_t).any():
        print(summary("  pyimpspec TR-RBF", rbf_t))
    return ours


def known_answers(repeat, peer: bool) -> None:
    """The known-answer spectra of tests/test_eis_drt.py: DRT and the choice with its proposals."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("test_eis_drt", ROOT / "tests" / "test_eis_drt.py")
    sys.path.insert(0, str(ROOT / "tests"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cases = mod.known_answer_cases(range(10))
    count = tau_ok = tau_n = arcs_ok = within = 0
    t_drt, t_sel, t_plain = [], [], []
    peer_ok, peer_n = {"tr-nnls": 0, "tr-rbf": 0}, {"tr-nnls": 0, "tr-rbf": 0}
    for circuit, params, K, taus, Z in cases:
        f = mod.FREQ
        drt, cpu = timed_drt(f, Z, repeat)
        t_drt.append(cpu)
        if drt is not None and len(drt.resolved) == K:
            count += 1
            for p, t in zip(drt.resolved, taus):
                tau_n += 1
                tau_ok += abs(p.tau_s / t - 1) < 0.1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (fit, _), c, _ = timed(lambda: eis.select_circuit(f, Z), repeat)
        t_sel.append(c)
        t_plain.append(timed_select_plain(f, Z, repeat))
        m = eis.circuit_model(fit.circuit)
        arcs = sum(1 for node in m.tree[1] if node[0] == "p") if m.tree[0] == "s" else 0
        arcs_ok += arcs == K
        within += fit.chi2 <= 1.5 * fit.audit["noise_floor_chi2_kk"]
        for method in ("tr-nnls", "tr-rbf") if peer else ():
            found, _ = peer_drt(f, Z, method)
            if found is not None:
                peer_n[method] += 1
                peer_ok[method] += found == K
    n = len(cases)
    print(f"known answers ({n} spectra: 1-3 R||CPE processes 1-3 decades apart, with/without a Warburg tail, "
          "0.5 % noise):")
    print(f"  DRT processes found right: {count}/{n} ({count / n:.0%}); peak tau within 10 %: {tau_ok}/{tau_n}")
    for method in ("tr-nnls", "tr-rbf") if peer else ():
        if peer_n[method]:
            print(f"  pyimpspec {method.upper()} (peaks above 10 % of the highest, in range): processes right "
                  f"{peer_ok[method]}/{peer_n[method]}")
    print(f"  chosen circuit with the DRT's proposals: right number of arcs {arcs_ok}/{n}, fit within the noise "
          f"(chi2 <= 1.5 chi2_KK) {within}/{n}")
    print(summary("  DRT (fit_drt)", t_drt))
    print(summary("  select_circuit with DRT proposals", t_sel))
    print(summary("  select_circuit without (fixed set)", t_plain))


def over_target(label, named_times):
    """The line that states the selection time target and every spectrum above it."""
    timed_ok = [(n, t) for n, t in named_times if np.isfinite(t)]
    slow = [(n, t) for n, t in timed_ok if t > SELECT_TARGET_S]
    lines = [f"  {label}: {len(slow)} of {len(timed_ok)} spectra above {SELECT_TARGET_S} s CPU"]
    lines += [f"    {n}: {t:.3f} s" for n, t in slow]
    return "\n".join(lines)


def summary(label, values):
    values = np.asarray(values, float)
    return (f"{label:34s} median {np.nanmedian(values):.4f}  mean {np.nanmean(values):.4f}  "
            f"p90 {np.nanpercentile(values, 90):.4f}  max {np.nanmax(values):.4f}  (n={np.isfinite(values).sum()})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="repetitions per spectrum for timing")
    ap.add_argument("--maxfev", type=int, default=2000, help="impedance.py curve_fit maxfev (its default: 100000)")
    ap.add_argument("--no-reference", action="store_true", help="skip the impedance.py reference fits")
    ap.add_argument("--no-select", action="store_true", help="skip timing select_circuit")
    ap.add_argument("--no-demo", action="store_true", help="skip the demo spectra of raw/")
    ap.add_argument("--only-drt", action="store_true", help="only the DRT sections (corpus, demo, known answers)")
    ap.add_argument("--peer", default="", help="folders (':'-separated) holding pyimpspec, to time its DRT too")
    args = ap.parse_args(argv)
    for folder in filter(None, args.peer.split(":")):
        sys.path.append(folder)  # after the project's own packages
    peer = bool(args.peer)
    if not (CORPUS / "MANIFEST.tsv").is_file():
        print(f"corpus not found at {CORPUS}; set ECHEM_CORPUS")
        return 1
    # warm imports so that the first spectrum does not pay for them
    import impedance.models.circuits  # noqa: F401
    import scipy.optimize  # noqa: F401

    os.system("uptime")  # the machine is shared: its load goes with the figures
    if args.only_drt:
        named = [(n, f, Z) for n, f, Z, _, e in corpus_spectra() if not e]
        if not args.no_demo:
            named += list(demo_spectra())
        drt_section(named, args.repeat, peer)
        print()
        known_answers(args.repeat, peer)
        os.system("uptime")
        return 0

    rows, skipped = [], []
    for name, f, Z, circuit, err in corpus_spectra():
        if err:
            skipped.append((name, err))
            continue
        ok_e = ok_i = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit, ce, we = timed(lambda: eis.fit_spectrum(f, Z, circuit), args.repeat)
                ff, zz, chi_e = fit.freq_Hz, fit.Z, fit.chi2
                kk = "ok" if fit.kk_ok else "FAIL"
            except Exception as exc:  # noqa: BLE001 - a benchmark reports failures
                ok_e, chi_e, ce, we, kk = False, np.nan, np.nan, np.nan, f"error {exc}"
                ff, zz = f, Z
        try:
            if args.no_reference:
                raise RuntimeError("skipped")
            (chi_i, _), ci, wi = timed(lambda: impedance_py_fit(ff, zz, circuit, args.maxfev), args.repeat)
        except Exception:  # noqa: BLE001
            ok_i, chi_i, ci, wi = False, np.nan, np.nan, np.nan
        chosen, cs = timed_select(f, Z, args.repeat) if not args.no_select else ("", np.nan)
        cp = timed_select_plain(f, Z, args.repeat) if not args.no_select else np.nan
        rows.append(dict(name=name, circuit=circuit, n=len(ff), chi_e=chi_e, chi_i=chi_i, ce=ce, we=we, ci=ci, wi=wi,
                         ok_e=ok_e, ok_i=ok_i, kk=kk, chosen=chosen, cs=cs, cp=cp, f=f, Z=Z))

    for r in rows:
        best = min((c for c in (r["chi_e"], r["chi_i"]) if np.isfinite(c)), default=np.nan)
        r["ok_e"] = r["ok_e"] and np.isfinite(r["chi_e"]) and r["chi_e"] <= 10 * best
        r["ok_i"] = r["ok_i"] and np.isfinite(r["chi_i"]) and r["chi_i"] <= 10 * best

    head = f"{'spectrum':58s} {'N':>3s} {'chi2 echem':>11s} {'chi2 imp.py':>11s} {'ratio':>7s} {'cpu echem':>9s} {'cpu imp.py':>10s} {'speedup':>7s}  KK    {'cpu select':>10s} chosen"
    print(head)
    print("-" * len(head))
    for r in rows:
        ratio = r["chi_e"] / r["chi_i"] if np.isfinite(r["chi_i"]) else np.nan
        print(
            f"{r['name'][:58]:58s} {r['n']:3d} {r['chi_e']:11.4e} {r['chi_i']:11.4e} {ratio:7.3f} "
            f"{r['ce']*1000:7.1f}ms {r['ci']*1000:8.1f}ms {r['ci']/r['ce']:6.1f}x  {r['kk']:4s}  "
            f"{r['cs']*1000:8.1f}ms {r['chosen']}"
        )
    n = len(rows)
    ce = np.array([r["ce"] for r in rows]); ci = np.array([r["ci"] for r in rows])
    we = np.array([r["we"] for r in rows]); wi = np.array([r["wi"] for r in rows])
    better = sum(not np.isfinite(r["chi_i"]) or r["chi_e"] <= r["chi_i"] * (1 + 1e-4) for r in rows)
    much_better = sum(r["chi_e"] < 0.5 * r["chi_i"] for r in rows)
    print("-" * len(head))
    print(f"spectra: {n}   skipped files: {len(skipped)}")
    print(f"{'':22s}{'echem':>14s}{'impedance.py':>16s}")
    print(f"{'success rate':22s}{sum(r['ok_e'] for r in rows)/n:14.0%}{sum(r['ok_i'] for r in rows)/n:16.0%}")
    print(f"{'median chi2':22s}{np.nanmedian([r['chi_e'] for r in rows]):14.3e}{np.nanmedian([r['chi_i'] for r in rows]):16.3e}")
    print(f"{'CPU s/spectrum median':22s}{np.nanmedian(ce):14.4f}{np.nanmedian(ci):16.4f}")
    print(f"{'CPU s/spectrum mean':22s}{np.nanmean(ce):14.4f}{np.nanmean(ci):16.4f}")
    print(f"{'wall s/spectrum mean':22s}{np.nanmean(we):14.4f}{np.nanmean(wi):16.4f}")
    print(f"speed ratio (total CPU impedance.py / echem): {np.nansum(ci)/np.nansum(ce):.1f}x")
    print(f"echem chi2 <= impedance.py chi2 (+0.01 %): {better}/{n}; less than half: {much_better}/{n}")
    for name, err in skipped:
        print(f"skipped {name}: {err[:120]}")

    print()
    print("CPU s per spectrum (corpus):")
    print(summary("  fit_spectrum (default circuit)", ce))
    if not args.no_select:
        print(summary("  select_circuit (with DRT proposals)", [r["cs"] for r in rows]))
        print(summary("  select_circuit (fixed set only)", [r["cp"] for r in rows]))
        print(over_target("select_circuit", [(r["name"], r["cs"]) for r in rows]))
    if not args.no_demo:
        demo = []
        for name, f, Z in demo_spectra():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                circuit = eis.FILM_CIRCUIT if name.startswith("LLZO") else eis.CATALYST_CIRCUIT
                try:
                    _, cf, _ = timed(lambda: eis.fit_spectrum(f, Z, circuit), args.repeat)
                except Exception:  # noqa: BLE001
                    cf = np.nan
            chosen, cs = timed_select(f, Z, args.repeat) if not args.no_select else ("", np.nan)
            demo.append((name, cf, cs, chosen, f, Z))
        print()
        print(f"demo spectra of raw/: {len(demo)}")
        for name, cf, cs, chosen, *_ in demo:
            print(f"  {name:40s} fit {cf*1000:7.1f}ms  select {cs*1000:7.1f}ms  {chosen}")
        print("CPU s per spectrum (demo):")
        print(summary("  fit_spectrum (default circuit)", [d[1] for d in demo]))
        if not args.no_select:
            print(summary("  select_circuit (all candidates)", [d[2] for d in demo]))
            print(over_target("select_circuit", [(d[0], d[2]) for d in demo]))
    print()
    print("distribution of relaxation times (corpus and demo spectra that pass Lin-KK):")
    named = [(r["name"], r["f"], r["Z"]) for r in rows] + ([(d[0], d[4], d[5]) for d in demo] if not args.no_demo else [])
    drt_section(named, args.repeat, peer)
    print()
    known_answers(args.repeat, peer)
    os.system("uptime")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
