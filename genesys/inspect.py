"""`python -m genesys.inspect DESIGN [--d-model N]`: a design's unit tree, its units' sizes, and the LM size at
every paper scale. Builds the design on the meta device (no memory); it executes the design's code, so use it on
trusted or checked designs (`python -m genesys.check` runs untrusted code in a sandbox)."""
from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from genesys.gau import DesignLoadError, TreeError, load_design
from genesys.gau.inspection import sizes_at_paper_scales, unit_param_counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesys.inspect", description=__doc__.split("\n")[0])
    parser.add_argument("design", help="design folder or single-unit .py file")
    parser.add_argument("--d-model", type=int, default=768, help="width for the per-unit table (default 768)")
    args = parser.parse_args(argv)
    console = Console()
    try:
        tree = load_design(args.design)
        config = tree.kwarg_all()
    except (DesignLoadError, TreeError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    console.print(tree.view())
    console.print(f"\nhyper-parameters: {config}\n")

    units = Table(title=f"Parameters per unit in one block (d_model = {args.d_model})")
    for col in ("unit", "parameters", "x d_model^2", "children"):
        units.add_column(col, justify="right" if col != "unit" and col != "children" else "left")
    counts = unit_param_counts(tree, args.d_model)
    for name, n in counts.items():
        children = ", ".join(tree.units[name].children) if name in tree.units else "(placeholder)"
        units.add_row(name, f"{n:,}", f"{n / args.d_model ** 2:.2f}", children)
    units.add_row("[b]block[/b]", f"[b]{sum(counts.values()):,}[/b]", f"{sum(counts.values()) / args.d_model ** 2:.2f}", "")
    console.print(units)

    scales = Table(title="Language model at the paper scales (vocab 32000, tied embeddings)")
    for col in ("scale", "d_model", "n_block", "total", "non-embedding", "reference", "vs reference"):
        scales.add_column(col, justify="right")
    for row in sizes_at_paper_scales(tree):
        scales.add_row(row.scale, str(row.d_model), str(row.n_block), f"{row.total / 1e6:.2f}M",
                       f"{row.non_embedding / 1e6:.2f}M", f"{row.reference / 1e6:.2f}M", f"{row.ratio - 1:+.1%}")
    console.print(scales)
    return 0


if __name__ == "__main__":
    sys.exit(main())
