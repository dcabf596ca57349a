"""Figure details issue 16 named: labels inside the figure, series order and colours,
engineering units, readable log ticks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from echem.plots.figure import PALETTE, colour_for, new_figure, order_samples


def test_series_order_untreated_first_treatments_in_natural_order_references_last():
    demo = ["PtC_ref", "PtMG_Tg-1h", "PtMG_Tg-3h", "PtMG_Tg-5h", "PtMG_UV25J", "PtMG_UV50J", "PtMG_UV75J",
            "PtMG_as-cast"]
    assert order_samples(demo) == ["PtMG_as-cast", "PtMG_Tg-1h", "PtMG_Tg-3h", "PtMG_Tg-5h", "PtMG_UV25J",
                                   "PtMG_UV50J", "PtMG_UV75J", "PtC_ref"]
    assert order_samples(["LLZO_750C", "LLZO_500C", "LLZO_650C"]) == ["LLZO_500C", "LLZO_650C", "LLZO_750C"]
    assert order_samples(["S10", "S2", "S1"]) == ["S1", "S2", "S10"]
    assert order_samples(["b", "a"], order={"b": 1}) == ["b", "a"]  # an explicit order wins


def test_colours_stay_with_the_sample_and_none_is_pale_yellow():
    assert "#F0E442" not in PALETTE and len(set(PALETTE)) == len(PALETTE)
    members = ["PtMG_as-cast", "PtMG_UV50J", "PtC_ref"]
    assert colour_for("PtMG_UV50J", members) == colour_for("PtMG_UV50J", list(reversed(members)))


def _inside(fig) -> None:
    fig.canvas.draw()
    box = fig.bbox
    texts = [t for ax in fig.axes for t in (*ax.texts, ax.title, ax.xaxis.label, ax.yaxis.label,
                                            *(ax.get_legend().get_texts() if ax.get_legend() else []))]
    for text in (t for t in texts if t.get_visible() and t.get_text()):
        ext = text.get_window_extent()
        assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1, \
            f"{text.get_text()!r} is cut at the figure's edge"


def test_per_sample_polarisation_labels_its_targets_inside_the_figure():
    from echem.plots.lsv import plot_polarisation

    E = np.linspace(0, -0.14, 200)
    curve = pd.DataFrame({"E_RHE_corr_V": E, "j_mA_cm2": -1000 * (np.exp(-E / 0.03) - 1) / 1e3})
    fig, ax = new_figure()
    plot_polarisation(ax, {"lsv.mpt": curve}, (10, 100))
    labels = [t.get_text() for t in ax.texts]
    assert "−10 mA cm$^{-2}$" in labels and "−100 mA cm$^{-2}$" in labels
    _inside(fig)


def test_nyquist_in_engineering_units_without_an_offset_and_bode_ticks_readable():
    from echem.plots.eis import plot_bode, plot_nyquist

    f = np.logspace(-1, 6, 50)
    Z = 1.3e9 / (1 + 1j * f * 1e-1)
    fig, ax = new_figure()
    plot_nyquist(ax, (f, Z))
    fig.canvas.draw()
    assert ax.get_xlabel() == "Z' / GΩ" and ax.xaxis.get_offset_text().get_text() == ""
    fig, axes = new_figure(ncols=2)
    Zs = 3 + 60 / (1 + 1j * f * 1e-3)  # |Z| between 3 and 63 Ω: less than two decades
    plot_bode(axes[0, 0], axes[0, 1], (f, Zs))
    fig.canvas.draw()
    minor = [t.get_text() for t in axes[0, 0].yaxis.get_minorticklabels() if t.get_text()]
    assert not minor, minor  # no '3×10¹, 6×10⁰'
    major = [t.get_text() for t in axes[0, 0].yaxis.get_majorticklabels() if t.get_text()]
    assert major and all("10^" not in t and "times" not in t for t in major), major


def test_arrhenius_cooling_runs_are_drawn_with_their_own_marker():
    from echem.arrhenius import fit_arrhenius, law_sigma_S_cm
    from echem.plots.arrhenius import plot_arrhenius

    T = np.array([100.0, 200, 300, 400])
    s = law_sigma_S_cm(T, 0.5, 1e4) * (1 + 0.01 * np.array([1, -1, 1, -1]))
    fit = fit_arrhenius(T, s)
    fig, ax = new_figure()
    plot_arrhenius(ax, {"A heating": (T, s, fit), "A cooling": (T, s, fit)},
                   styles={"A cooling": {"marker": "v", "linestyle": ":"}})
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    cooling = next(v for k, v in lines.items() if k.startswith("A cooling"))
    assert cooling.get_marker() == "v"
    assert any(ln.get_linestyle() == ":" for ln in ax.get_lines())


def test_the_cut_note_never_covers_the_title_or_the_axes():
    """A series figure that shows part of its series says so in red: below the axes of a
    constrained figure (the layout makes room for it), under the title of a fixed grid; in
    both, its drawn box overlaps neither the title's nor an axis label's."""
    from echem.plots.compare import _title, cut_note
    from echem.plots.figure import fixed_grid

    constrained, ax = new_figure(6.4, 4.8, layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("E / V vs RHE")
    grid, axes = new_figure(7.0, 9.0, ncols=2, nrows=4)
    fixed_grid(grid, 4, 2)
    for a in np.ravel(axes):
        a.set_title("panel title", fontsize=7.5)
    for fig in (constrained, grid):
        _title(fig, "PtMG: polarisation curves")
        cut_note(fig, "showing 16 of 1024 samples (all of them: the report's tables)")
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        note = [t for t in fig.findobj(lambda o: hasattr(o, "get_text")) if "showing 16" in str(t.get_text())]
        assert len(note) == 1 and note[0].get_color() == "#B00020"
        box = note[0].get_window_extent(renderer)
        title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else fig._suptitle.get_text()
        assert title == "PtMG: polarisation curves"
        others = [fig._suptitle, *[a.xaxis.label for a in fig.axes], *[a.title for a in fig.axes]]
        for other in others:
            if other.get_text():
                assert not box.overlaps(other.get_window_extent(renderer)), other.get_text()
        assert 0 <= box.y0 and box.y1 <= fig.bbox.height  # inside the figure
