"""The demo and its generator, outside the layers the operations use.

* :mod:`swat_xl.demo.sample`: realistic Power BI exports and rosters with their ground truth
  (used by ``swat-xl demo``, the tests and the benchmarks);
* :mod:`swat_xl.demo.run`: ``swat-xl demo``, the whole job run end to end on a sample.

No module of the core, the workbook layer, the adapters or the services imports this package
(an import-linter contract in ``pyproject.toml`` says so).
"""
