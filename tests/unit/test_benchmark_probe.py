"""The benchmark asks the measured code, in a process of its own, for the digest it keys its
kept work on (a month drawn by other code is drawn again before it is timed)."""

from __future__ import annotations

import re

from benchmarks import run
from swat_xl.services.reporting import code_version


def test_the_benchmark_asks_the_measured_code_for_its_version():
    version = run._code_version()
    assert re.fullmatch(r"[0-9a-f]{64}", version)
    assert version == code_version()
