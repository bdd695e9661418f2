"""The loss curve as a small PNG, drawn headless with matplotlib's Agg canvas.

No pyplot: its global figure registry is shared state, unsafe across the event loop's threads and leaky in
a long-running service. A `Figure` with its own `FigureCanvasAgg` is drawn and dropped. The 800×400 pixels
(readable in Slack's preview) are cut to a 64-colour palette with Pillow before saving: anti-aliased lines
otherwise cost some 60 KB, the palette brings it to about 15–25 KB with no visible change.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from bot.charts.curves import Series, TrainingCurves

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 4.0, 100
PALETTE_COLOURS = 64
_TRAIN, _VALID, _FULL, _ACCURACY, _CHECKPOINT = "#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#7f7f7f"


def render_png(curves: TrainingCurves, *, title: str, best_step: int | None = None) -> bytes:
    """Training and validation loss by step (token accuracy on a right-hand axis when present), each
    checkpoint a dotted line, the one with the lowest validation loss (`best_step`) starred."""
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    # Fixed margins (room for both axes' labels and the legend below): a layout engine would measure
    # every label first and double the drawing time.
    figure.subplots_adjust(left=0.08, right=0.92, top=0.92, bottom=0.22)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    _line(axes, curves.train_loss, "training loss", _TRAIN, width=1.2)
    _line(axes, curves.valid_loss, "validation loss", _VALID, width=1.2, marker=".")
    _line(axes, curves.full_valid_loss, "full validation loss", _FULL, width=1.6, marker="o")
    validation = dict(curves.validation)
    for mark in curves.checkpoints:
        axes.axvline(mark.step, color=_CHECKPOINT, linestyle=":", linewidth=1)
        y = mark.valid_loss if mark.valid_loss is not None else validation.get(mark.step)
        if y is not None:  # the checkpoint's own validation loss, the best one starred
            best = mark.step == best_step
            axes.plot(
                [mark.step],
                [y],
                marker="*" if best else "D",
                markersize=14 if best else 5,
                color=_FULL,
                zorder=5,
            )
        axes.annotate(
            f"ckpt {mark.step}",
            xy=(mark.step, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -10),
            textcoords="offset points",
            fontsize=7,
            color=_CHECKPOINT,
        )
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    handles, labels = axes.get_legend_handles_labels()
    if curves.train_accuracy or curves.valid_accuracy:
        right = axes.twinx()
        _line(right, curves.train_accuracy, "training token accuracy", _ACCURACY, width=0.8, style="--")
        _line(right, curves.valid_accuracy, "validation token accuracy", _ACCURACY, width=0.8, style="-.")
        right.set_ylabel("token accuracy")
        right.set_ylim(0.0, 1.0)
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if handles:
        # Below the plot, where it hides no line.
        figure.legend(
            handles, labels, fontsize=7, loc="lower center", ncol=min(len(handles), 5), frameon=False
        )
    return _palette_png(canvas)


def _palette_png(canvas: FigureCanvasAgg) -> bytes:
    canvas.draw()  # type: ignore[no-untyped-call]  # one draw; savefig would draw again
    width, height = canvas.get_width_height()
    pixels = bytes(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
    image = Image.frombytes("RGBA", (width, height), pixels)
    out = io.BytesIO()
    image.convert("RGB").quantize(colors=PALETTE_COLOURS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _line(
    axes: Axes,
    series: Series,
    label: str,
    colour: str,
    *,
    width: float,
    style: str = "-",
    marker: str | None = None,
) -> None:
    if not series:
        return
    steps = [step for step, _ in series]
    values = [value for _, value in series]
    axes.plot(
        steps,
        values,
        label=label,
        color=colour,
        linewidth=width,
        linestyle=style,
        marker=marker,
        markersize=3,
    )
