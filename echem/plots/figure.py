"""Figures without pyplot: jobs run in threads, so no global figure state is used."""

from __future__ import annotations

from pathlib import Path

#: One colour per sample, stable across the figures of a series (assigned in the series'
#: order, :func:`order_samples`): Okabe-Ito without its yellow (it vanishes on white),
#: then darker tones.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#882255", "#8C564B", "#7F7F7F", "#44AA99", "#332288")
#: Markers, cycled with the colours (a 13th sample gets the first colour, another marker).
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "p", "*")

#: Words in a sample id that mark the untreated starting material (drawn first) and a
#: reference or benchmark (drawn last): ``PtMG_as-cast`` first, ``PtC_ref`` last.
PRISTINE_WORDS = ("as-cast", "ascast", "as_cast", "pristine", "as-prepared", "as-deposited",
                  "as-grown", "untreated", "bare", "blank", "control")
REFERENCE_WORDS = ("ref", "reference", "benchmark", "commercial", "std", "standard")


def _natural_key(name: str):
    import re

    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", name) if t]


def _role(name: str) -> int:
    import re

    words = [w for w in re.split(r"[_\s.]+", name.lower()) if w]
    parts = set(words) | {p for w in words for p in w.split("-")}
    if parts & set(REFERENCE_WORDS) or name.lower().startswith("ref"):
        return 2
    if any(w in name.lower() for w in PRISTINE_WORDS):
        return 0
    return 1


def order_samples(samples, order: dict | None = None) -> list[str]:
    """The order a series is drawn and listed in, and its colours are assigned in.

    ``order`` maps a sample to a number (from its ``sample.yaml``, when given): those come
    first, by number. The others: the untreated material (``as-cast``, ``pristine``, ...)
    first, then the treatments in natural order (``Tg-1h`` before ``Tg-3h``, ``UV25J``
    before ``UV75J``, ``500C`` before ``750C``), references (``_ref``, ``reference``,
    ``commercial``, ...) last.
    """
    order = order or {}
    return sorted(dict.fromkeys(samples), key=lambda s: (
        0 if s in order else 1, order.get(s, 0), _role(s), _natural_key(s)))


def colour_for(sample: str, all_samples: list[str]) -> str:
    """The sample's colour among ``all_samples`` (assigned in :func:`order_samples` order)."""
    ordered = order_samples(all_samples)
    return PALETTE[ordered.index(sample) % len(PALETTE)] if sample in ordered else PALETTE[-1]


def colours_for(samples) -> dict[str, str]:
    """Every sample's colour at once (as :func:`colour_for`, one sort for all)."""
    ordered = order_samples(samples)
    return {s: PALETTE[k % len(PALETTE)] for k, s in enumerate(ordered)}


def marker_for(sample: str, all_samples: list[str]) -> str:
    """The sample's marker (cycles every len(PALETTE) samples, so colour + marker stay unique)."""
    ordered = order_samples(all_samples)
    k = ordered.index(sample) if sample in ordered else 0
    return MARKERS[(k // len(PALETTE) + k) % len(MARKERS)]


def new_figure(width_in: float = 4.5, height_in: float = 3.5, ncols: int = 1, nrows: int = 1,
               layout: str | None = None, **kw):
    """A Figure with an Agg canvas and its axes (publication style: ticks in on all sides).

    ``layout=None`` (per-sample diagnostics, drawn by the thousand) uses fixed margins:
    matplotlib's layout engines cost more than the drawing. Comparative figures pass
    ``layout="constrained"``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout=layout)
    if layout is None:
        fig.subplots_adjust(left=0.16, right=0.96, bottom=0.14, top=0.88, wspace=0.4, hspace=0.45)
    FigureCanvasAgg(fig)
    from matplotlib.ticker import MaxNLocator

    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    for ax in axes.flat:
        ax.tick_params(direction="in", top=True, right=True)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    return fig, (axes[0, 0] if nrows == ncols == 1 else axes)


#: Space above a fixed grid's axes, inches: the title, a note under it, the first row's titles.
GRID_TOP_IN = 0.7


def fixed_grid(fig, nrows: int, ncols: int, *, left_in: float = 0.6, right_in: float = 0.15,
               top_in: float = GRID_TOP_IN, bottom_in: float = 0.45, hgap_in: float = 0.62,
               wgap_in: float = 0.6) -> None:
    """Fixed margins and gaps, in inches, for a tall grid of small panels (a series' sample
    rows): the same look as constrained layout, which on 32-64 axes costs more than the
    drawing. Gaps leave room for a panel's title above and its axis labels below."""
    width_in, height_in = fig.get_size_inches()
    axes_w = (width_in - left_in - right_in - (ncols - 1) * wgap_in) / ncols
    axes_h = (height_in - top_in - bottom_in - (nrows - 1) * hgap_in) / nrows
    fig.subplots_adjust(left=left_in / width_in, right=1 - right_in / width_in, bottom=bottom_in / height_in,
                        top=1 - top_in / height_in, wspace=wgap_in / axes_w, hspace=hgap_in / axes_h)


def title_y(fig, below_in: float) -> float:
    """The figure-fraction height ``below_in`` inches under the figure's top edge."""
    return 1 - below_in / fig.get_size_inches()[1]


def save(fig, stem: str | Path, formats=("png", "svg"), dpi: int = 200) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for every format; returns the paths.

    A layout engine (constrained layout) places the axes once, for the first format; the
    other formats keep that placement instead of running the engine again (on a series'
    grid of 32-64 axes the layout costs about as much as the drawing).
    """
    from echem.workflow.tables import atomic_write_bytes
    import io

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, fmt in enumerate(formats):
        if k == 1 and fig.get_layout_engine() is not None:
            fig.set_layout_engine("none")  # keep the positions the first save computed
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
        path = stem.with_suffix(f".{fmt}")
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    return paths
