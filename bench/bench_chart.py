"""How long drawing the loss curve takes, and how big its PNG is, by the number of steps trained.

The figures come from the emulator's results file of a job with a validation file and its checkpoints,
as the notifier draws them (`bot.charts`). Each size is drawn `--repeat` times; the first draw of the
process (matplotlib's font cache) is reported on its own.

    .venv/bin/python bench/bench_chart.py [--repeat 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.charts.advice import advise  # noqa: E402
from bot.charts.curves import TrainingCurves, curves_from  # noqa: E402
from bot.charts.render import render_png  # noqa: E402
from bot.finetune.models import Checkpoint  # noqa: E402
from bot.finetune.results import parse_results  # noqa: E402
from bot.sandbox.emulator.lifecycle import Plan, checkpoint_model, metrics_at, results_csv  # noqa: E402

STEPS = (100, 1_000, 10_000)


def _curves(steps: int) -> TrainingCurves:
    plan = Plan(total_steps=steps, n_epochs=3, seed=7, has_validation=True, fine_tuned_model="ft:bench")
    checkpoints = [
        Checkpoint(
            id=f"ftckpt-{step}",
            created_at=0,
            step_number=step,
            fine_tuned_model_checkpoint=checkpoint_model(plan, step, azure=False),
            metrics={"step": step, **metrics_at(plan, step)},
        )
        for step in plan.checkpoint_steps()
    ]
    return curves_from(parse_results(results_csv(plan, azure=False)), [], checkpoints)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    started = time.perf_counter()
    render_png(_curves(100), title="warm-up")
    first_ms = (time.perf_counter() - started) * 1000
    for steps in STEPS:
        curves = _curves(steps)
        best = advise(curves).best
        times, size = [], 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            png = render_png(curves, title=f"{steps} steps", best_step=best.step if best else None)
            times.append((time.perf_counter() - t0) * 1000)
            size = len(png)
        rows.append(
            {
                "steps": steps,
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "png_kb": round(size / 1024, 1),
            }
        )
    if args.json:
        print(json.dumps({"first_draw_ms": round(first_ms, 1), "rows": rows}))
        return
    print(f"first draw of the process (font cache): {first_ms:.0f} ms")
    print("| steps  | median ms | max ms | PNG KB |")
    print("|--------|-----------|--------|--------|")
    for row in rows:
        print(f"| {row['steps']:>6,} | {row['median_ms']:>9} | {row['max_ms']:>6} | {row['png_kb']:>6} |")


if __name__ == "__main__":
    main()
