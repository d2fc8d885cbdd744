"""The ``xlwings.conf`` sheet of a macro-enabled master: how its VBA finds Python."""

from __future__ import annotations

#: Rows of the ``xlwings.conf`` sheet (:data:`swat_xl.workbook.labels.SHEET_XLWINGS`: the
#: xlwings VBA reads its settings from ``PROJECT_NAME & ".conf"``), from A1 down with no
#: header and no blank row (the VBA reads ``A1:A<End(xlDown)>``; keys are compared in upper
#: case and must be unique, values are in column B). Every key the sheet holds overrides the
#: user's own ``%USERPROFILE%\\.xlwings\\xlwings.conf``, which is why the empty ones are
#: listed too. Booleans must be written as booleans (or the text ``False``), never left
#: empty: xlwings 0.37.8 assigns them to a VBA ``Boolean``.
XLWINGS_CONF: list[tuple[str, str | bool]] = [
    ("Interpreter_Win", r"%USERPROFILE%\swat_xl\.venv\Scripts\pythonw.exe"),
    ("PYTHONPATH", ""),
    ("Conda Path", ""),
    ("Conda Env", ""),
    ("UDF Modules", ""),
    ("Debug UDFs", False),
    ("Use UDF Server", False),
    ("Show Console", False),
    # swat_xl is installed in the venv: the workbook's folder (maybe a OneDrive URL,
    # which xlwings cannot always map to a local path) must not go on sys.path.
    ("ADD_WORKBOOK_TO_PYTHONPATH", False),
]
