"""The benchmarks of QUALITY.md (P1-P7), run by ``make bench``
(``python -m tests.bench.run``), never by ``make test``.

Each module measures one figure and its baseline in the same run, because
the machines are shared and noisy: a figure is judged as a ratio.
"""
