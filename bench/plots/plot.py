#!/usr/bin/env python3
"""Draws docs/benchmarks' plots from benchmark output: latency against offered rate, each scenario beside its baseline.

    python3 bench/plots/plot.py docs/benchmarks/extauthz-latency.csv docs/benchmarks/dlp-latency.csv

Reads every line starting with `latency,` (what io.meshguard.bench.LatencyCsv prints; the whole output of a
benchmark run can be passed as it is) and writes, for each input file, an SVG of the same name beside it
(`extauthz-latency.csv` -> `extauthz-latency.svg`): one panel for p50 and one for p99, both axes logarithmic,
the baseline scenario drawn black and dashed, saturated points marked with an x. Python 3 standard library only.
"""
import csv
import math
import pathlib
import sys
from xml.sax.saxutils import escape

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
PANEL_W, PANEL_H, MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 430, 300, 70, 20, 40, 50


def read_rows(path):
    lines = [line for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines()
             if line.startswith("latency,")]
    rows = list(csv.DictReader(lines))
    if not rows:
        raise SystemExit(f"{path}: no 'latency,' lines (run the benchmark, keep its output)")
    for r in rows:
        for key in ("offered_per_s", "achieved_per_s", "p50_us", "p99_us", "p999_us"):
            r[key] = float(r[key])
        r["baseline"] = r["baseline"] == "1"
        r["saturated"] = r["saturated"] == "1"
    return rows


def log_ticks(lo, hi):
    """1-2-5 ticks covering [lo, hi]; powers of ten only when the range spans more than three decades."""
    steps = (1,) if hi / lo > 1000 else (1, 2, 5)
    ticks, exp = [], math.floor(math.log10(lo))
    while True:
        for m in steps:
            v = m * 10 ** exp
            if v > hi * 1.0001:
                return ticks
            if v >= lo * 0.9999:
                ticks.append(v)
        exp += 1


def fmt(v):
    """An offered rate: 500, 1k, 2k."""
    if v >= 1000 and v % 1000 == 0:
        return f"{int(v // 1000)}k"
    return f"{v:g}"


def fmt_us(v):
    """A latency given in microseconds: 500 µs, 2 ms, 1 s."""
    if v >= 1_000_000:
        return f"{v / 1_000_000:g} s"
    if v >= 1000:
        return f"{v / 1000:g} ms"
    return f"{v:g} µs"


def panel(rows, scenarios, metric, title, x0):
    xs = sorted({r["offered_per_s"] for r in rows})
    ys = [r[metric] for r in rows]
    x_lo, x_hi = xs[0] / 1.3, xs[-1] * 1.3
    y_lo, y_hi = min(ys) / 1.5, max(ys) * 1.5
    w, h = PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B

    def sx(v):
        return x0 + MARGIN_L + w * (math.log(v) - math.log(x_lo)) / (math.log(x_hi) - math.log(x_lo))

    def sy(v):
        return MARGIN_T + h - h * (math.log(v) - math.log(y_lo)) / (math.log(y_hi) - math.log(y_lo))

    out = [f'<text x="{x0 + MARGIN_L + w / 2:.1f}" y="22" text-anchor="middle" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{x0 + MARGIN_L}" y="{MARGIN_T}" width="{w}" height="{h}" fill="none" stroke="#999"/>']
    for t in log_ticks(y_lo, y_hi):
        y = sy(t)
        out.append(f'<line x1="{x0 + MARGIN_L}" x2="{x0 + MARGIN_L + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 + MARGIN_L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt_us(t)}</text>')
    for t in xs:
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN_T}" y2="{MARGIN_T + h}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{MARGIN_T + h + 16}" text-anchor="middle">{fmt(t)}</text>')
    out.append(f'<text x="{x0 + MARGIN_L + w / 2:.1f}" y="{PANEL_H - 10}" text-anchor="middle">offered rate (per second)</text>')
    out.append(f'<text transform="translate({x0 + 16},{MARGIN_T + h / 2:.1f}) rotate(-90)" text-anchor="middle">'
               f'latency</text>')
    for i, (name, color) in enumerate(scenarios):
        points = sorted((r["offered_per_s"], r[metric], r["saturated"]) for r in rows if r["scenario"] == name)
        baseline = color == "#000000"
        path = " ".join(f"{'M' if k == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for k, (x, y, _) in enumerate(points))
        dash = ' stroke-dasharray="6,4"' if baseline else ""
        out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for x, y, saturated in points:
            if saturated:
                out.append(f'<text x="{sx(x):.1f}" y="{sy(y) + 4:.1f}" text-anchor="middle" fill="{color}">x</text>')
            else:
                out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"/>')
    return out


def svg(rows, server):
    names = list(dict.fromkeys(r["scenario"] for r in rows))
    base = [n for n in names if any(r["baseline"] for r in rows if r["scenario"] == n)]
    others = [n for n in names if n not in base]
    scenarios = [(n, "#000000") for n in base] + [(n, COLORS[i % len(COLORS)]) for i, n in enumerate(others)]
    width = 2 * PANEL_W
    legend_h = 18 * len(scenarios) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{PANEL_H + legend_h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="100%" height="100%" fill="white"/>']
    out += panel(rows, scenarios, "p50_us", f"{server}: p50 latency", 0)
    out += panel(rows, scenarios, "p99_us", f"{server}: p99 latency", PANEL_W)
    y = PANEL_H + 10
    for name, color in scenarios:
        dash = ' stroke-dasharray="6,4"' if color == "#000000" else ""
        label = name + ("  (baseline)" if color == "#000000" else "")
        out.append(f'<line x1="{MARGIN_L}" x2="{MARGIN_L + 30}" y1="{y:.1f}" y2="{y:.1f}" stroke="{color}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{MARGIN_L + 38}" y="{y + 4:.1f}">{escape(label)}</text>')
        y += 18
    out.append(f'<text x="{MARGIN_L}" y="{y + 6:.1f}" fill="#555">open loop, latency from the intended send time; '
               f'x = saturated (fell 2 s behind)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(paths):
    if not paths:
        print(__doc__)
        return 2
    for path in paths:
        rows = read_rows(path)
        target = pathlib.Path(path).with_suffix(".svg")
        target.write_text(svg(rows, rows[0]["server"]), encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
