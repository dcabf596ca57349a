"""The echem command: inspect and convert single files, trace a sample's numbers.

    echem inspect FILE            technique, vendor, metadata, columns, rows, ranges
    echem convert FILE OUT.csv    the canonical CSV (SI columns, metadata as # comments)
    echem audit SAMPLE            every number of a sample with its file, sha256 and fit
    echem report                  the HTML report of a workflow run (results/report/index.html)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _inspect(args) -> int:
    from echem import io

    m = io.read(args.file)
    summary = m.summary()
    if args.json:
        from echem.workflow.run import dump_json

        print(dump_json(summary))
        return 0
    meta = summary["meta"]
    print(f"{'file:':<18}{args.file}")
    for key in ("format", "vendor", "technique", "technique_source", "sha256"):
        print(f"{key + ':':<18}{meta.get(key)}")
    print(f"{'rows:':<18}{summary['rows']}")
    print("columns:")
    for col in summary["columns"]:
        lo, hi = summary["ranges"].get(col, (float("nan"), float("nan")))
        print(f"  {col:<14} {lo:>14.6g} .. {hi:<14.6g}")
    other = {k: v for k, v in meta.items()
             if k not in ("format", "vendor", "technique", "technique_source", "sha256", "rows")}
    if other:
        print("metadata:")
        for key, value in other.items():
            print(f"  {key}: {value}")
    return 0


def _convert(args) -> int:
    from echem import io
    from echem.io.canonical_csv import write_csv

    m = io.read(args.file)
    write_csv(m, args.out)
    print(f"{args.file} -> {args.out}: {m.meta['technique']} {len(m.data)} rows, "
          f"columns {', '.join(m.data.columns)}")
    return 0


def _audit(args) -> int:
    from echem.audit_report import format_sample_audit

    text = format_sample_audit(Path(args.results), args.sample)
    print(text)
    return 0


def _report(args) -> int:
    from echem.report import build

    index = build(Path(args.results), Path(args.out) if args.out else None)
    print(f"report written: {index} (open it in a browser; the folder {index.parent} works offline)")
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # the reader went away (``echem audit X | head``): not an error. Point stdout at
        # devnull so that the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="echem", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from echem import __version__

    parser.add_argument("--version", action="version", version=f"echem {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="print what a file holds")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_inspect)

    p = sub.add_parser("convert", help="write the canonical CSV of a file")
    p.add_argument("file")
    p.add_argument("out")
    p.set_defaults(func=_convert)

    p = sub.add_parser("audit", help="trace every number of a sample to its file and fit")
    p.add_argument("sample")
    p.add_argument("--results", default="results", help="the workflow's results folder")
    p.set_defaults(func=_audit)

    p = sub.add_parser("report", help="write the HTML report of a workflow run")
    p.add_argument("--results", default="results", help="the workflow's results folder")
    p.add_argument("--out", default=None, help="the report folder (default: RESULTS/report)")
    p.set_defaults(func=_report)

    args = parser.parse_args(argv)
    from echem.errors import EchemError

    try:
        return args.func(args)
    except (EchemError, FileNotFoundError) as exc:
        print(f"echem: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
