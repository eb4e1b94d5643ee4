"""Chart cost: computing a reliability diagram's numbers vs drawing it, and a cached response.

    .venv/bin/python bench/charts.py [--forecasts 100000] [--seed 1]

(a) the numbers: calibration table (10 bins, Wilson intervals) and Murphy decomposition of
    100,000 seeded forecasts; (b) drawing the reliability diagram from them, PNG and SVG;
(c) the chart served from the cache through the web view (Django's test client, no network),
    on a seeded throwaway database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from seed import fresh_database, seed_resolved, setup_django


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecasts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.update({"DEBUG": "0", "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "testserver"})
    setup_django()
    import numpy as np

    from forecasts.charts import calibration_charts as charts
    from forecasts.maths import calibration

    rng = np.random.default_rng(args.seed)
    truth = rng.beta(1.2, 1.2, args.forecasts)
    probs = np.clip(truth + rng.normal(0, 0.05, args.forecasts), 0.001, 0.999)
    outcomes = (rng.random(args.forecasts) < truth).astype(float)

    def numbers() -> tuple:
        return (
            calibration.calibration_table(probs, outcomes),
            calibration.murphy_decomposition(probs, outcomes),
        )

    compute = best_of(numbers, 5)
    table, _ = numbers()
    series = [charts.ReliabilitySeries("you", table)]
    png = best_of(lambda: charts.render_reliability(series, "png"), 3)
    svg = best_of(lambda: charts.render_reliability(series, "svg"), 3)

    from django.core.cache import cache
    from django.test import Client

    fresh_database()
    seed_resolved(20_000, args.seed)
    cache.clear()
    client = Client()
    url = "/charts/crowd/calibration.png?practice=1"
    started = time.perf_counter()
    first = client.get(url)
    uncached = time.perf_counter() - started
    samples = []
    for _ in range(200):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
    assert first.status_code == response.status_code == 200

    print(f"cores: {os.cpu_count()}; {args.forecasts:,} forecasts (seed {args.seed})")
    print(f"(a) numbers (10 bins, Wilson intervals, Murphy terms): {compute * 1000:8.1f} ms")
    print(
        f"(b) draw reliability diagram, PNG:                    {png * 1000:8.1f} ms"
        f"  ({png / compute:.0f}x the numbers)"
    )
    print(f"    draw reliability diagram, SVG:                    {svg * 1000:8.1f} ms")
    print(f"(c) crowd chart via the web view, first (compute + draw): {uncached * 1000:6.1f} ms")
    print(
        f"    the same, cached: median {statistics.median(samples) * 1000:.2f} ms, "
        f"p99 {sorted(samples)[int(len(samples) * 0.99) - 1] * 1000:.2f} ms "
        f"over {len(samples)} requests"
    )


if __name__ == "__main__":
    main()
