"""Tools about the installation, beside the entry points (they read the machine and the
adapters directly, and run no operation on a master): :mod:`doctor` diagnoses this PC and a
workbook, :mod:`bundle` prepares an offline Windows install folder."""
