"""What only Windows can say about a file: its mark of the Web and the kind of drive it is on.

* :func:`zone_identifier` reads the ``Zone.Identifier`` alternate data stream that browsers,
  Outlook and Teams attach to a downloaded file (the "mark of the Web"; Office blocks the
  macros of a workbook whose mark says Internet or restricted sites);
* :func:`drive_type` asks ``GetDriveTypeW`` whether a path's drive is local or a mapped
  network drive.

Both answer "nothing to report" on other systems, so callers need no platform test of
their own. The checks that use them (:mod:`swat_xl.install.doctor`) take these functions
as parameters, and their tests pass fakes.
"""

from __future__ import annotations

import codecs
import ctypes
import ntpath
import sys

#: ``GetDriveTypeW`` results (WinBase.h) and our names for them.
_DRIVE_TYPES = {
    2: "removable",
    3: "local",
    4: "remote",
    5: "cdrom",
    6: "ramdisk",
}
ADS_LIMIT = 64 * 1024


def zone_identifier(path: str) -> str | None:
    """The text of ``path``'s ``Zone.Identifier`` stream, or None (no mark, or not Windows)."""
    if sys.platform != "win32":
        return None
    try:
        with open(path + ":Zone.Identifier", "rb") as stream:
            data = stream.read(ADS_LIMIT)
    except OSError:  # no such stream (not downloaded), FAT/exFAT/network share without ADS
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def drive_type(path: str) -> str:
    """``"remote"`` for a UNC path or a mapped network drive, ``"local"``, ``"removable"``…,
    ``"unknown"`` when Windows cannot tell; always ``"local"`` on other systems."""
    if sys.platform != "win32":
        return "local"
    drive = ntpath.splitdrive(path)[0]
    if drive.startswith(("\\\\", "//")):
        return "remote"
    if not drive:
        return "unknown"
    kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009 - absent outside Windows
    kind = int(kernel32.GetDriveTypeW(ctypes.c_wchar_p(drive + "\\")))
    return _DRIVE_TYPES.get(kind, "unknown")
