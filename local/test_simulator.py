"""The simulator's per-version business metric: python3 -m unittest discover -s local -p 'test_*.py'."""

import os
import random
import sys
import unittest

os.environ.setdefault("MINISTACK_URL", "http://127.0.0.1:4566")
os.environ.setdefault("MOTO_URL", "http://127.0.0.1:4567")
sys.path.insert(0, os.path.dirname(__file__))
import simulator  # noqa: E402


class ConversionRate(unittest.TestCase):
    def test_the_tag_sets_the_uplift(self):
        rate = simulator.conversion_rate
        self.assertAlmostEqual(rate("repo/service:1.4.0"), 0.25)
        self.assertAlmostEqual(rate("repo/service:exp-b-conv+10"), 0.275)
        self.assertAlmostEqual(rate("repo/service:exp-conv-20"), 0.2)
        self.assertAlmostEqual(rate("repo/service"), 0.25)
        self.assertEqual(rate("r:conv+999"), 1.0)

    def test_a_drawn_sample_is_near_the_rate(self):
        random.seed(7)
        p = simulator.conversion_rate("r:conv+10")
        n = 200_000
        hits = sum(1 for _ in range(n) if random.random() < p)
        self.assertLess(abs(hits / n - 0.275), 0.005)

    def test_the_conversion_distribution_is_one_value_per_request(self):
        values, counts = simulator.conversion_values(120, 30)
        self.assertEqual((values, counts), ([1.0, 0.0], [30.0, 90.0]))
        self.assertEqual(simulator.conversion_values(10, 0), ([0.0], [10.0]))
        self.assertEqual(simulator.conversion_values(4, 4), ([1.0], [4.0]))


class Profiles(unittest.TestCase):
    def test_a_drill_fault_overrides_the_image_tag(self):
        name, prof = simulator.profile_for("r:1.4.0", "errors")
        self.assertEqual((name, prof["errors"], prof["p95_ms"]), ("drill-errors", 0.08, 120.0))
        name, prof = simulator.profile_for("r:1.4.0", "latency")
        self.assertEqual((name, prof["errors"], prof["p95_ms"]), ("drill-latency", 0.001, 900.0))
        self.assertEqual(simulator.profile_for("r:bad-1")[0], "bad")
        self.assertEqual(simulator.profile_for("r:rel-badin-us-west-2", None, "us-west-2")[0], "bad")
        self.assertEqual(simulator.profile_for("r:rel-badin-us-west-2", None, "us-east-1")[0], "good")
        self.assertEqual(simulator.profile_for("r:1.4.0", "unknown")[0], "good")


if __name__ == "__main__":
    unittest.main()
