"""Wheels and their requirements, judged for a target Python on 64-bit Windows (wraps
:mod:`packaging`).

``pip download --platform win_amd64`` evaluates environment markers for the machine it runs
on, so a requirement such as xlwings' ``pywin32; platform_system == "Windows"`` is dropped
when the bundle is made on Linux or macOS. Here markers are evaluated against the marker
environment of the *target* (:func:`windows_markers`), and :func:`unmet_requirements` walks
every requirement from the root down, so a bundle that lacks one is caught before it ships.
"""

from __future__ import annotations

import email.parser
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.tags import Tag, compatible_tags, cpython_tags
    from packaging.utils import (
        InvalidWheelFilename,
        canonicalize_name,
        parse_wheel_filename,
    )
    from packaging.version import InvalidVersion, Version
except ImportError as exc:  # pragma: no cover - an optional dependency
    raise ImportError(
        "Preparar el paquete de instalación requiere «packaging» y «uv»: "
        "pip install 'swat-xl[bundle]'"
    ) from exc

from swat_xl.errors import BundleError

#: The Windows wheels a bundle carries.
PLATFORM = "win_amd64"


@dataclass(frozen=True)
class Distribution:
    """What a wheel's ``METADATA`` says about its distribution."""

    name: str  # canonical (PEP 503) name
    version: str
    requires_dist: tuple[str, ...]
    requires_python: str | None
    file: str  # the wheel's file name

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "requires_python": self.requires_python,
            "requires_dist": list(self.requires_dist),
        }

    @classmethod
    def from_json(cls, file: str, data: Mapping[str, object]) -> Distribution:
        requires = data.get("requires_dist") or []
        assert isinstance(requires, list)
        python = data.get("requires_python")
        return cls(
            name=canonicalize_name(str(data["name"])),
            version=str(data["version"]),
            requires_dist=tuple(str(r) for r in requires),
            requires_python=str(python) if python else None,
            file=file,
        )


def canonical(name: str) -> str:
    return canonicalize_name(name)


def read_wheel(path: str | Path) -> Distribution:
    """The metadata of a wheel file (``*.dist-info/METADATA``)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as wheel:
            names = [n for n in wheel.namelist() if n.count("/") == 1]
            metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
            text = wheel.read(metadata).decode("utf-8", errors="replace")
    except (OSError, zipfile.BadZipFile, StopIteration) as exc:
        raise BundleError("La rueda está dañada o no tiene METADATA", file=path) from exc
    message = email.parser.Parser().parsestr(text, headersonly=True)
    return Distribution(
        name=canonicalize_name(message.get("Name", "")),
        version=message.get("Version", ""),
        requires_dist=tuple(message.get_all("Requires-Dist") or ()),
        requires_python=message.get("Requires-Python"),
        file=path.name,
    )


def windows_markers(python: str, extra: str = "") -> dict[str, str]:
    """The PEP 508 marker environment of CPython ``python`` ("3.12") on 64-bit Windows."""
    full = python if python.count(".") >= 2 else f"{python}.0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "nt",
        "platform_machine": "AMD64",
        "platform_python_implementation": "CPython",
        "platform_release": "10",
        "platform_system": "Windows",
        "platform_version": "10.0.19045",
        "python_full_version": full,
        "python_version": ".".join(full.split(".")[:2]),
        "sys_platform": "win32",
        "extra": extra,
    }


def target_tags(python: str) -> set[Tag]:
    """The wheel tags CPython ``python`` on 64-bit Windows accepts."""
    version = tuple(int(part) for part in python.split(".")[:2])
    return set(cpython_tags(version, platforms=[PLATFORM])) | set(
        compatible_tags(version, interpreter=f"cp{version[0]}{version[1]}", platforms=[PLATFORM])
    )


def wheel_supports(file: str, python: str) -> bool:
    """Whether the wheel file named ``file`` installs on CPython ``python`` on 64-bit Windows."""
    try:
        _, _, _, tags = parse_wheel_filename(file)
    except InvalidWheelFilename:
        return False
    return bool(set(tags) & target_tags(python))


def wheel_name_version(file: str) -> tuple[str, str] | None:
    try:
        name, version, _, _ = parse_wheel_filename(file)
    except InvalidWheelFilename:
        return None
    return str(name), str(version)


def _applies(marker: Marker | None, markers: Mapping[str, str], extras: Iterable[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**markers, "extra": extra}) for extra in ("", *extras))


def unmet_requirements(
    roots: Iterable[str],
    pins: Mapping[str, Distribution],
    python: str,
    *,
    markers: Mapping[str, str] | None = None,
) -> list[str]:
    """What the pinned distributions fail to satisfy, as Spanish sentences (empty: all held).

    Starting from ``roots`` (requirement strings), every requirement whose marker holds on
    the target (default: CPython ``python`` on 64-bit Windows) must be pinned, at a version
    the requirement allows, by a distribution whose ``Requires-Python`` admits ``python``.
    """
    env = dict(markers or windows_markers(python))
    version = Version(env["python_full_version"])
    problems: list[str] = []
    queue: list[tuple[str, str]] = [(root, "") for root in roots]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        text, wanted_by = queue.pop(0)
        by = f" (lo pide {wanted_by})" if wanted_by else ""
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            problems.append(f"Requisito ilegible «{text}»{by}.")
            continue
        if not _applies(requirement.marker, env, ()):
            continue
        name = canonicalize_name(requirement.name)
        pinned = pins.get(name)
        if pinned is None:
            problems.append(f"Falta {requirement.name}{by}.")
            continue
        try:
            allowed = requirement.specifier.contains(Version(pinned.version), prereleases=True)
        except InvalidVersion:
            allowed = False
        if not allowed:
            problems.append(f"{pinned.name} {pinned.version} no cumple «{requirement}»{by}.")
        if pinned.requires_python:
            try:
                runs = SpecifierSet(pinned.requires_python).contains(version, prereleases=True)
            except InvalidSpecifier:
                runs = True
            if not runs:
                problems.append(
                    f"{pinned.name} {pinned.version} no funciona con Python {python} "
                    f"(pide {pinned.requires_python})."
                )
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for child in pinned.requires_dist:
            try:
                marker = Requirement(child).marker
            except InvalidRequirement:
                problems.append(f"Requisito ilegible «{child}» (lo pide {pinned.name}).")
                continue
            if _applies(marker, env, requirement.extras):
                queue.append((_without_marker(child), f"{pinned.name} {pinned.version}"))
    return problems


def _without_marker(text: str) -> str:
    """A requirement without its marker (already evaluated, with the parent's extras)."""
    requirement = Requirement(text)
    requirement.marker = None
    return str(requirement)
