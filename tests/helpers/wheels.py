"""The recorded Windows resolution (tests/data/windows_bundle.json) and metadata-only wheels."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RECORDED: dict[str, Any] = json.loads(
    (ROOT / "tests" / "data" / "windows_bundle.json").read_text("utf-8")
)
OWN_WHEEL = f"swat_xl-{RECORDED['swat_xl']}-py3-none-any.whl"


def write_wheel(folder: Path, file: str) -> Path:
    """A wheel file holding only the recorded ``METADATA`` of ``file``."""
    meta = RECORDED["wheels"][file]
    name, version = file.split("-")[0], meta["version"]
    lines = ["Metadata-Version: 2.1", f"Name: {meta['name']}", f"Version: {version}"]
    if meta["requires_python"]:
        lines.append(f"Requires-Python: {meta['requires_python']}")
    lines += [f"Requires-Dist: {r}" for r in meta["requires_dist"]]
    path = folder / file
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}-{version}.dist-info/METADATA", "\n".join(lines) + "\n")
    return path
