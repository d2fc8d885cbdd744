"""Turn Excel's type library, as published in ``@types/activex-excel`` (MIT), into
``typelib.json``: the classes, members, parameter names and enum values of Excel's object
model that the strict COM model (:mod:`tests.helpers.excel_com`) checks every ``.api`` call
against.

The package is the TypeScript rendering of Excel's COM type library (DefinitelyTyped, by Zev
Spitz); Office's shared classes (``LineFormat``, ``ColorFormat``, ``MsoLineDashStyle``…) come
from ``@types/activex-office``. Regenerate (needs npm and the network, the tests need neither)::

    python tests/excel_model/generate.py            # npm pack both packages into a temp dir
    python tests/excel_model/generate.py DIR...     # or unpacked packages already at hand

Output, compact, sorted and one enum or class a line so that a regeneration diffs cleanly::

    {"source": {"@types/activex-excel": {"version": ..., "license": "MIT"}, ...},
     "enums": {"XlListSeparator": {"xlListSeparator": 5, ...}, ...},
     "classes": {"Range": {
         "NumberFormat": {"t": ["null", "string"]},             # a property
         "Cells": {"t": ["Range"], "ro": 1},                    # a read-only property
         "Value": {"t": ["any"], "p": [["RangeValueDataType?", ["XlRangeValueDataType"]]]},
         "Sort": [[[["Key1", ["Range", "string"]], ["Order1?", ["XlSortOrder"]], ...],
                   ["any"]], ...]}}}                             # a method: its overloads

A type is a list of alternatives: a class name, ``"Enum"`` or ``"Enum.member"``, or a
primitive (``any``, ``number``, ``string``, ``boolean``, ``null``, ``array``…). A parameter
name ending in ``?`` is optional; ``p`` lists the parameters of a parameterized property
(``Range.Value(xlRangeValueDefault)``, ``Application.International(xlListSeparator)``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "typelib.json"
PACKAGES = ("@types/activex-excel", "@types/activex-office")
NAMESPACES = {"activex-excel": "Excel", "activex-office": "Office"}

_BLOCK = re.compile(r"^    (?:export )?(const enum|class|interface|type) (\w+)")
_ENUM_MEMBER = re.compile(r"^\s*(\w+) = (-?\d+),?$")
_PROPERTY = re.compile(r"^(readonly )?(\w+)\??: (.+);$")
_METHOD = re.compile(r"^(\w+)(<[^(]*>)?\((.*)\): (.+);$", re.S)
_DEFAULTS = re.compile(r"@param (\w+) \[\w+=([^\]]+)\]")


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` outside (), <>, [] and {}."""
    out, depth, current = [], 0, ""
    for ch in text:
        if ch in "(<[{":
            depth += 1
        elif ch in ")>]}":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        out.append(current)
    return [part.strip() for part in out]


def type_of(text: str, aliases: dict[str, list[str]]) -> list[str]:
    """A TypeScript type as its alternatives (classes, enums, enum members, primitives)."""
    text = text.strip()
    if "=>" in text or "extends" in text:
        return ["any"]
    out: list[str] = []
    for part in split_top(text.replace("&", "|"), "|"):
        part = part.strip().strip("()")
        part = re.sub(r"^(Excel|Office|stdole|VBIDE)\.", "", part)
        if part.startswith("Exclude<"):
            part = "any"
        elif part.startswith("SafeArray<") or part.endswith("[]"):
            part = "array"
        elif "<" in part:
            part = part.split("<", 1)[0]
        if part in aliases:
            out += aliases[part]
        elif part:
            out.append(part)
    return sorted(set(out)) or ["any"]


def parse(path: Path, namespace: str) -> tuple[dict, dict, dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    enums: dict[str, dict[str, int]] = {}
    raw_aliases: dict[str, str] = {}
    bodies: dict[str, list[str]] = {}
    inside = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(f"declare namespace {namespace} "):
            inside = True
        elif inside and line == "}":
            inside = False
        match = _BLOCK.match(line) if inside else None
        if not match:
            i += 1
            continue
        kind, name = match.groups()
        if kind == "type":
            text = line.split("=", 1)[1] if "=" in line else ""
            while not text.rstrip().endswith(";"):
                i += 1
                text += " " + lines[i].strip()
            raw_aliases[name] = text.rstrip().rstrip(";")
            i += 1
            continue
        body: list[str] = []
        i += 1
        while lines[i] != "    }":
            body.append(lines[i])
            i += 1
        i += 1
        if kind == "const enum":
            values = {}
            for entry in body:
                m = _ENUM_MEMBER.match(entry)
                if m:
                    values[m[1]] = int(m[2])
            enums[name] = values
        else:
            bodies.setdefault(name, []).extend(body)
    return enums, raw_aliases, bodies


def statements(body: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Member declarations (joined over lines) with the defaults their doc comment names."""
    out: list[tuple[str, dict[str, str]]] = []
    current, depth, doc = "", 0, ""
    for line in body:
        text = line.strip()
        if not current and (text.startswith(("/**", "*", "//")) or not text):
            doc += " " + text
            continue
        current += (" " if current else "") + text
        depth += text.count("(") - text.count(")")
        if depth == 0 and current.endswith(";"):
            out.append((current, dict(_DEFAULTS.findall(doc))))
            current, doc = "", ""
    return out


def param(text: str, aliases: dict[str, list[str]]) -> list:
    if text.startswith("..."):
        return ["...?", ["any"]]
    name, _, kind = text.partition(":")
    return [name.strip(), type_of(kind or "any", aliases)]


_ARROW = re.compile(r"\((?:<\w+>)?\(([^()]*)\) =>")


def parameterized(kind: str, aliases: dict[str, list[str]]) -> list | None:
    """The parameters of a property typed ``X & ((P?: T) => R)`` (callable in COM)."""
    match = _ARROW.search(kind)
    if not match:
        return None
    return [param(p, aliases) for p in split_top(match[1], ",")]


def members(body: list[str], aliases: dict[str, list[str]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for text, _defaults in statements(body):
        text = re.sub(r"^private ", "", text)
        if text.startswith(("'", '"', "[")):
            continue
        method = _METHOD.match(text)
        prop = _PROPERTY.match(text)
        if method and (not prop or text.index("(") < text.index(":")):
            name, _, params, returns = method.groups()
            entry = out.setdefault(name, [])
            if isinstance(entry, list):
                entry.append(
                    [[param(p, aliases) for p in split_top(params, ",")], type_of(returns, aliases)]
                )
        elif prop:
            readonly, name, kind = prop.groups()
            entry = {"t": type_of(kind, aliases)}
            if readonly:
                entry["ro"] = 1
            params = parameterized(kind, aliases)
            if params is not None:
                entry["p"] = params
            out[name] = entry
    return out


def generate(folders: list[Path]) -> dict:
    enums: dict[str, dict[str, int]] = {}
    raw_aliases: dict[str, str] = {}
    bodies: dict[str, list[str]] = {}
    source = {}
    for folder in folders:
        meta = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        source[meta["name"]] = {"version": meta["version"], "license": meta["license"]}
        e, a, b = parse(folder / "index.d.ts", NAMESPACES[folder.name])
        enums.update(e)
        raw_aliases.update(a)
        for name, body in b.items():
            bodies.setdefault(name, []).extend(body)
    aliases: dict[str, list[str]] = {}
    for name, text in raw_aliases.items():
        aliases[name] = type_of(text, aliases)
    classes = {name: members(body, aliases) for name, body in sorted(bodies.items())}
    return {"source": source, "enums": dict(sorted(enums.items())), "classes": classes}


def npm_pack(target: Path) -> list[Path]:
    folders = []
    for package in PACKAGES:
        name = subprocess.run(
            ["npm", "pack", package, "--pack-destination", str(target)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        with tarfile.open(target / name) as archive:
            archive.extractall(target, filter="data")
        folders.append(target / package.split("/")[1])
    return folders


def dump(data: dict) -> str:
    """JSON with one enum or class a line."""

    def compact(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    parts = [f'"source":{compact(data["source"])}']
    for key in ("enums", "classes"):
        lines = [f"{compact(name)}:{compact(value)}" for name, value in data[key].items()]
        parts.append(f'"{key}":{{\n' + ",\n".join(lines) + "}")
    return "{" + ",\n".join(parts) + "}\n"


def main(argv: list[str]) -> int:
    if argv:
        data = generate([Path(a) for a in argv])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            data = generate(npm_pack(Path(tmp)))
    OUT.write_text(dump(data), encoding="utf-8")
    print(f"{OUT.name}: {len(data['classes'])} classes, {len(data['enums'])} enums")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
