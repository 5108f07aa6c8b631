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
        self.assertAlmostEqual(rate("repo/service:1.4.0"), 0.05)
        self.assertAlmostEqual(rate("repo/service:exp-b-conv+10"), 0.055)
        self.assertAlmostEqual(rate("repo/service:exp-conv-20"), 0.04)
        self.assertAlmostEqual(rate("repo/service"), 0.05)
        self.assertEqual(rate("r:conv+999"), min(1.0, 0.05 * 10.99))

    def test_a_drawn_sample_is_near_the_rate(self):
        random.seed(7)
        p = simulator.conversion_rate("r:conv+10")
        n = 200_000
        hits = sum(1 for _ in range(n) if random.random() < p)
        self.assertLess(abs(hits / n - 0.055), 0.002)


if __name__ == "__main__":
    unittest.main()
