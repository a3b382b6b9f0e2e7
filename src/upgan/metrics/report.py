"""The comparison report of ``upgan compare``: ``report.json`` fields, a plain-language reading
of the numbers, the spectrum plot and a self-contained ``report.html``.

The page embeds every image as a base64 ``data:`` URI and uses no script, font or style
sheet from elsewhere, so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
import io

import torch

from upgan.metrics.evaluation import SCORES

__all__ = ["VARIANT_KEYS", "describe_results", "spectrum_plot_png", "grid_png", "render_html"]

# The keys of each entry of report.json's "variants", in table order.
VARIANT_KEYS = (
    "upsample",
    "fid",
    "kid",
    "precision",
    "recall",
    "density",
    "coverage",
    "checkerboard",
    "spectral_distance",
    "params",
    "images_per_s",
    "train_seconds",
)


def _leaders(variants: list[dict], key: str, better: str, fmt: str) -> list[dict]:
    """The variants with the lowest (``better="lower"``) or highest ``key`` as the text shows it
    (formatted with ``fmt``): a tie at the printed precision names them all, in report order."""
    best = (min if better == "lower" else max)(v[key] for v in variants)
    return [v for v in variants if format(v[key], fmt) == format(best, fmt)]


def _names(variants: list[dict]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    names = [v["upsample"] for v in variants]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_results(report: dict) -> list[str]:
    """Plain-language sentences read off the numbers of a report.

    Args:
        report: a dict with ``"variants"`` (entries with :data:`VARIANT_KEYS`), ``"baseline"``
            (the real-vs-real scores) and ``"config"`` (with ``"n"`` and ``"seed"``).

    Returns:
        A list of sentences: the winner on each group of scores, which variants carry
        checkerboard energy, speed and size, and the caveats (sample size, one seed, the
        real-vs-real floor).

    Example:
        >>> v = lambda name, fid, cb: dict(upsample=name, fid=fid, kid=fid / 1000, precision=0.8,
        ...     recall=0.5, density=0.9, coverage=0.7, checkerboard=cb, spectral_distance=0.01,
        ...     params=1000, images_per_s=100.0, train_seconds=10.0)
        >>> report = {"variants": [v("transposed", 30.0, 3.0), v("nearest", 12.0, 1.1)],
        ...           "baseline": dict(fid=2.0, kid=0.0, checkerboard=1.0), "config": {"n": 1000, "seed": 0}}
        >>> print(describe_results(report)[0])
        Lowest FID: nearest (12.0), against 30.0 for transposed; real images score 2.0 against each other at this n, the floor.
    """
    variants, base, cfg = report["variants"], report["baseline"], report["config"]
    lines = []
    leaders = _leaders(variants, "fid", "lower", ".1f")
    best = leaders[0]
    rest = ", ".join(f"{v['fid']:.1f} for {v['upsample']}" for v in sorted(variants, key=lambda v: v["fid"]) if v not in leaders)
    lines.append(
        f"Lowest FID: {_names(leaders)} ({best['fid']:.1f})"
        + (f", against {rest}" if rest else "")
        + f"; real images score {base['fid']:.1f} against each other at this n, the floor."
    )
    kid_leaders = _leaders(variants, "kid", "lower", ".4f")
    both = [v for v in leaders if v in kid_leaders]
    if both:
        lines.append(f"KID agrees: {_names(both)} {'is' if len(both) == 1 else 'are'} lowest there too ({both[0]['kid']:.4f}).")
    else:
        lines.append(
            f"KID disagrees: {_names(kid_leaders)} {'is' if len(kid_leaders) == 1 else 'are'} lowest there "
            f"({kid_leaders[0]['kid']:.4f} against {best['kid']:.4f}), so the FID ranking is not clear-cut."
        )
    p, r = _leaders(variants, "precision", "higher", ".2f"), _leaders(variants, "recall", "higher", ".2f")
    cov = _leaders(variants, "coverage", "higher", ".2f")
    lines.append(
        f"Fidelity (precision) is highest for {_names(p)} ({p[0]['precision']:.2f}), diversity "
        f"(recall) for {_names(r)} ({r[0]['recall']:.2f}) and coverage of the real data for "
        f"{_names(cov)} ({cov[0]['coverage']:.2f})."
    )
    grids = [v for v in variants if v["checkerboard"] > 1.5]
    if grids:
        worst = _leaders(grids, "checkerboard", "higher", ".1f")
        names = ", ".join(f"{v['upsample']} ({v['checkerboard']:.1f}x)" for v in grids)
        lines.append(
            f"Checkerboard: {names} put more energy at the x2 (Nyquist) frequencies than real images "
            f"do; {_names(worst)} the most. That is the periodic pattern an upsampling layer "
            "leaves (Odena et al. 2016); values near 1 mean none."
        )
    else:
        lines.append(
            "Checkerboard: every variant is within 1.5x of real images' energy at the x2 (Nyquist) "
            "frequencies, so none shows a marked periodic grid."
        )
    spec = _leaders(variants, "spectral_distance", "lower", ".4f")
    lines.append(
        f"The spectrum closest to real images' is {_names(spec)}'"
        f"{'s' if len(spec) == 1 else ''} (distance {spec[0]['spectral_distance']:.4f})."
    )
    fast, small = _leaders(variants, "images_per_s", "higher", ".0f"), _leaders(variants, "params", "lower", "d")
    lines.append(
        f"Speed: {_names(fast)} trained fastest ({fast[0]['images_per_s']:.0f} images/s); "
        f"{_names(small)} {'has' if len(small) == 1 else 'have'} the fewest generator parameters ({small[0]['params']:,})."
    )
    lines.append(
        f"Caveats: one training seed ({cfg['seed']}) and n={cfg['n']} samples per score. GAN "
        "results vary from seed to seed, and FID is biased upwards at small n; treat FID "
        f"differences of the order of the real-vs-real value ({base['fid']:.1f}) as noise, and "
        "rerun with other seeds before drawing a conclusion."
    )
    return lines


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def spectrum_plot_png(spectra: dict[str, torch.Tensor], nyquist: int | None = None) -> bytes:
    """A PNG of mean radial spectra (name -> (R,) tensor), ``"real"`` drawn in black.

    ``nyquist``, when given, is the ring of the axis Nyquist frequency (``H // 2``), marked
    with a dashed line: a x2 checkerboard puts its energy there and in the corner rings
    beyond it.

    Example:
        >>> spectrum_plot_png({"real": torch.linspace(1, 0, 20), "nearest": torch.linspace(1, 0.1, 20)})[:4]
        b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, curve in spectra.items():
        style = dict(color="black", linewidth=2.2) if name == "real" else dict(linewidth=1.4)
        ax.plot(range(len(curve)), curve.tolist(), label=name, **style)
    if nyquist is not None:
        ax.axvline(nyquist, color="grey", linestyle="--", linewidth=1)
        ax.text(nyquist, 0.98, " Nyquist (period 2)", color="grey", fontsize=8, va="top", transform=ax.get_xaxis_transform())
    ax.set_xlabel("spatial frequency (ring radius, cycles per image)")
    ax.set_ylabel("normalised log power")
    ax.set_title("Azimuthally averaged spectrum (Durall et al. 2020)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def grid_png(images: torch.Tensor, nrow: int = 8) -> bytes:
    """PNG bytes of a grid of images in [-1, 1] (N, C, H, W), C in {1, 3}, scaled up x2.

    Example:
        >>> grid_png(torch.zeros(4, 1, 8, 8), nrow=2)[:4]
        b'\\x89PNG'
    """
    from PIL import Image

    from upgan.gan.images import make_grid

    picture = make_grid(images.clamp(-1, 1), nrow=nrow)
    picture = picture.resize((picture.width * 2, picture.height * 2), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _cell(value: object, key: str) -> str:
    if key == "upsample":
        return html.escape(str(value))
    if key == "params":
        return f"{value:,}"
    if key in ("images_per_s", "train_seconds"):
        return f"{value:.1f}"
    return f"{value:.4g}"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: right; }
th { background: #eef; } td:first-child, th:first-child { text-align: left; }
tr.baseline td { background: #f4f4f4; font-style: italic; }
.grids { display: flex; flex-wrap: wrap; gap: 1.5em; }
figure { margin: 0; } figcaption { font-weight: bold; margin-bottom: 0.3em; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def render_html(report: dict, grids: dict[str, bytes], spectrum_png: bytes, real_grid: bytes | None = None) -> str:
    """The self-contained report page.

    Args:
        report: the ``report.json`` dict (``variants``, ``baseline``, ``config``).
        grids: upsample method -> PNG bytes of its sample grid.
        spectrum_png: PNG bytes of the spectrum plot.
        real_grid: PNG bytes of real images, shown beside the samples (optional).

    Returns:
        The HTML text: a metrics table with the baseline row, the reading from
        :func:`describe_results`, the sample grids and the spectrum plot.

    Example:
        >>> v = dict(upsample="nearest", fid=1.0, kid=0.1, precision=0.5, recall=0.5, density=1.0,
        ...     coverage=0.5, checkerboard=1.0, spectral_distance=0.1, params=10, images_per_s=1.0,
        ...     train_seconds=1.0)
        >>> page = render_html({"variants": [v], "baseline": dict(v, fid=0.5), "config": {"n": 10, "seed": 0}},
        ...     {"nearest": grid_png(torch.zeros(1, 1, 4, 4))}, grid_png(torch.zeros(1, 1, 4, 4)))
        >>> page.count("<img"), "<table" in page, "http" in page
        (2, True, False)
    """
    cfg = report["config"]
    score_keys = [k for k in VARIANT_KEYS if k in SCORES]
    header = "".join(
        f"<th>{html.escape(SCORES[k][0] if k in SCORES else k.replace('_', ' '))}"
        + (f"<br><small>{SCORES[k][1]} is better</small>" if k in SCORES else "")
        + "</th>"
        for k in VARIANT_KEYS
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(v[k], k)}</td>" for k in VARIANT_KEYS) + "</tr>" for v in report["variants"]
    )
    base = report["baseline"]
    rows += (
        '<tr class="baseline"><td>real vs real</td>'
        + "".join(f"<td>{_cell(base[k], k)}</td>" for k in score_keys)
        + "<td></td>" * (len(VARIANT_KEYS) - 1 - len(score_keys))
        + "</tr>"
    )
    reading = "".join(f"<li>{html.escape(line)}</li>" for line in describe_results(report))
    figures = "".join(
        f"<figure><figcaption>{html.escape(name)}</figcaption>{_img(data, f'samples: {name}')}</figure>"
        for name, data in grids.items()
    )
    if real_grid is not None:
        figures += f"<figure><figcaption>real</figcaption>{_img(real_grid, 'real images')}</figure>"
    settings = ", ".join(f"{html.escape(str(k))}={html.escape(str(v))}" for k, v in cfg.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>upgan compare: {html.escape(", ".join(v["upsample"] for v in report["variants"]))}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Upsampling methods compared</h1>
<p>Each generator was trained with the same data, seed and budget, and differs only in its
upsampling layers. Scores are computed on n={cfg.get("n")} generated images against real
ones; the last row scores two disjoint sets of real images against each other, the best a
generator could do at this n.</p>
<table id="metrics">
<thead><tr>{header}</tr></thead>
<tbody>{rows}</tbody>
</table>
<h2>Reading</h2>
<ul id="reading">{reading}</ul>
<h2>Samples</h2>
<div class="grids">{figures}</div>
<h2>Spectra</h2>
{_img(spectrum_png, "mean radial spectra")}
<h2>Settings</h2>
<p><code>{settings}</code></p>
</body>
</html>
"""
