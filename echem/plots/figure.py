"""Figures without pyplot: jobs run in threads, so no global figure state is used."""

from __future__ import annotations

from pathlib import Path

#: One colour per sample, stable across figures (assigned in sorted sample order).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000", "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF")


def colour_for(sample: str, all_samples: list[str]) -> str:
    ordered = sorted(all_samples)
    return PALETTE[ordered.index(sample) % len(PALETTE)] if sample in ordered else PALETTE[-1]


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


def save(fig, stem: str | Path, formats=("png", "svg"), dpi: int = 200) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for every format; returns the paths."""
    from echem.workflow.tables import atomic_write_bytes
    import io

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
        path = stem.with_suffix(f".{fmt}")
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    return paths
