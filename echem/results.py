"""What every analysis result offers a notebook user, in lmfit's spirit.

A result object (:class:`echem.lsv.LSVResult`, :class:`echem.tafel.TafelResult`,
:class:`echem.ecsa.CdlResult`, :class:`echem.arrhenius.ArrheniusResult`,
:class:`echem.eis.EISFit` ...) lists its headline numbers with their standard errors and
units (:meth:`Result.quantities`), and from them gets

* a short ``repr``: the numbers rounded to their errors, and the flags;
* :meth:`Result.report`: a few lines a person reads (numbers, method, flags with why);
* :meth:`Result.to_dict`: plain JSON-safe values, as in the audit records;
* ``plot(ax=None)`` (each class draws itself on a matplotlib axis; a new figure when
  ``ax`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Value:
    """One reported number: name, value, standard error (None: none), unit."""

    name: str
    value: Any
    stderr: float | None = None
    unit: str = ""

    def text(self) -> str:
        from echem.report.numbers import fmt_pm

        if isinstance(self.value, (int, float)) and not isinstance(self.value, bool):
            shown = fmt_pm(float(self.value), self.stderr, self.unit)
            return shown or "n/a"
        return f"{self.value} {self.unit}".rstrip()


class Result:
    """Mixin: subclasses implement :meth:`quantities` (and ``plot``); ``flags`` and ``audit``
    attributes are used when present."""

    #: what the result is, for its report's first line
    title = "result"

    def quantities(self) -> list[Value]:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def method(self) -> str:
        """One line on how the numbers were found (the audit's criterion, if any)."""
        audit = getattr(self, "audit", None) or {}
        return str(audit.get("criterion", "")) if isinstance(audit, dict) else ""

    def flag_codes(self) -> list[str]:
        return [f.code for f in getattr(self, "flags", None) or []]

    def __repr__(self) -> str:
        shown = ", ".join(f"{v.name} = {v.text()}" for v in self.quantities()[:4])
        flags = self.flag_codes()
        return f"<{type(self).__name__} {shown}{'; flags: ' + ', '.join(flags) if flags else ''}>"

    def report(self) -> str:
        """A few lines a person reads: the numbers with errors, the method, the flags and why."""
        lines = [f"[[{self.title}]]"]
        width = max((len(v.name) for v in self.quantities()), default=0)
        lines += [f"    {v.name:<{width}} = {v.text()}" for v in self.quantities()]
        if self.method():
            lines += ["[[method]]", f"    {self.method()}"]
        flags = getattr(self, "flags", None) or []
        lines.append("[[flags]]")
        lines += [f"    {f.code}: {f.message}" for f in flags] or ["    none"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe plain values: the numbers, the flags and the audit record."""
        from echem.jsonsafe import jsonable

        return jsonable({
            "type": type(self).__name__,
            "values": {v.name: {"value": v.value, "stderr": v.stderr, "unit": v.unit} for v in self.quantities()},
            "flags": [f.to_dict() for f in getattr(self, "flags", None) or []],
            "audit": getattr(self, "audit", None),
        })


def axis(ax=None):
    """``ax``, or the axis of a new figure (:func:`echem.plots.figure.new_figure`)."""
    if ax is not None:
        return ax
    from echem.plots.figure import new_figure

    return new_figure()[1]
