"""Reference values for Cutover's Mann-Whitney U test, computed once with SciPy and committed.

Regenerate (needs scipy; not part of the build):
    python3 -m venv /tmp/scipy && /tmp/scipy/bin/pip install scipy==1.14.1
    /tmp/scipy/bin/python local/tools/mann_whitney_vectors.py > crates/core/tests/data/mann_whitney_scipy.json
"""
import json
import random

import scipy
from scipy.stats import mannwhitneyu


def cases():
    rng = random.Random(20261126)
    out = []
    # Continuous samples of several sizes, with and without a shift.
    for n1, n2, shift in [(5, 5, 0), (5, 5, 3), (6, 8, 1), (10, 10, 0), (10, 12, 0.5), (20, 20, 0.2),
                          (30, 25, 1), (60, 60, 0), (60, 60, 0.3), (8, 40, 2)]:
        x = [round(rng.gauss(shift, 1), 6) for _ in range(n1)]
        y = [round(rng.gauss(0, 1), 6) for _ in range(n2)]
        out.append((f"normal n={n1}/{n2} shift={shift}", x, y))
    # Ties: values rounded to few levels, zero-heavy error counts, all equal.
    for n1, n2, levels in [(10, 10, 3), (15, 20, 4), (30, 30, 2), (60, 60, 5), (7, 9, 2)]:
        x = [rng.randrange(levels) for _ in range(n1)]
        y = [rng.randrange(levels) for _ in range(n2)]
        out.append((f"ties n={n1}/{n2} levels={levels}", x, y))
    for n1, n2, p1, p2 in [(60, 60, 0.05, 0.05), (60, 60, 0.3, 0.02), (40, 50, 0.1, 0.0), (20, 20, 0.5, 0.5)]:
        x = [1 if rng.random() < p1 else 0 for _ in range(n1)]
        y = [1 if rng.random() < p2 else 0 for _ in range(n2)]
        if sum(x) + sum(y) == 0:
            x[0] = 1
        out.append((f"zero-heavy n={n1}/{n2} p={p1}/{p2}", x, y))
    out.append(("latency steps", [120, 120, 130, 140, 120, 125, 130, 900, 880], [120, 118, 121, 125, 130, 120, 119]))
    out.append(("one tie across sides", [1, 2, 3, 4, 5], [5, 6, 7, 8, 9]))
    out.append(("fully separated", [float(v) for v in range(20, 40)], [float(v) for v in range(0, 20)]))
    return out


def main():
    vectors = []
    for name, x, y in cases():
        r = mannwhitneyu(x, y, use_continuity=True, alternative="two-sided", method="asymptotic")
        vectors.append({"name": name, "x": x, "y": y, "u": float(r.statistic), "p": float(r.pvalue)})
    print(json.dumps({"scipy": scipy.__version__, "call": "mannwhitneyu(x, y, use_continuity=True, "
                      "alternative='two-sided', method='asymptotic')", "cases": vectors}, indent=1))


main()
