"""The script an analyst would write instead of swat_xl (the yardstick of ``run.py``).

Reads the Power BI export with ``pandas.read_excel`` (openpyxl engine), keeps the ally's rows,
deals them to the active agents of the roster in turn and writes one sheet per agent with
``DataFrame.to_excel`` (openpyxl engine)::

    python benchmarks/analyst.py data.xlsx asesores.csv reparto.xlsx
"""

from __future__ import annotations

import sys
import unicodedata

import pandas as pd


def _fold(text: object) -> str:
    plain = unicodedata.normalize("NFKD", str(text))
    return "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()


def main(export: str, roster: str, out: str) -> int:
    raw = pd.read_excel(export, engine="openpyxl", header=None, dtype=str)
    # The header is the first row naming the ally column (Power BI puts titles above it).
    header_at = next(
        i
        for i, row in raw.iterrows()
        if any(_fold(v) in ("aliado", "socio", "partner") for v in row)
    )
    data = raw.iloc[header_at + 1 :]
    data.columns = [str(v) for v in raw.iloc[header_at]]
    ally_column = next(c for c in data.columns if _fold(c) in ("aliado", "socio", "partner"))
    ally = data[data[ally_column].map(lambda v: "almacontact" in _fold(v).replace(" ", ""))]

    agents = pd.read_csv(roster, sep=";", dtype=str, encoding="utf-8-sig").fillna("")
    active = agents.loc[agents["Activo"].map(_fold).isin(["si", "s"]), "Asesor"].tolist()
    share = ally.assign(Asesor=[active[i % len(active)] for i in range(len(ally))])
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for index, (agent, rows) in enumerate(share.groupby("Asesor", sort=False)):
            rows.to_excel(writer, sheet_name=f"{index + 1} {agent}"[:31], index=False)
    print(f"{len(ally)} registros del aliado repartidos en {len(active)} hojas")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
