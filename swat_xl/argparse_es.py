"""argparse in Spanish: usage, section titles, ``-h`` and its own error messages.

argparse writes its words in English; the CLI's parsers are built from
:class:`SpanishArgumentParser`, which names the sections in Spanish, adds a Spanish ``-h``, and
translates argparse's error messages before showing them (``swat-xl: error: …``, exit 2).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), spanish)
    for pattern, spanish in (
        (r"^the following arguments are required: (.*)$", r"faltan estos argumentos: \1"),
        (r"^unrecognized arguments: (.*)$", r"argumentos no reconocidos: \1"),
        (
            r"^argument (.*?): invalid choice: (.*?) \(choose from (.*)\)$",
            r"argumento \1: opción no válida: \2 (elija entre \3)",
        ),
        (r"^argument (.*?): expected one argument$", r"argumento \1: falta su valor"),
        (r"^argument (.*?): expected at least one argument$", r"argumento \1: falta su valor"),
        (r"^argument (.*?): expected (\d+) arguments?$", r"argumento \1: se esperaban \2 valores"),
        (
            r"^argument (.*?): invalid int value: (.*)$",
            r"argumento \1: \2 no es un número entero",
        ),
        (r"^argument (.*?): invalid (\w+) value: (.*)$", r"argumento \1: valor no válido: \3"),
        (
            r"^argument (.*?): not allowed with argument (.*)$",
            r"argumento \1: no se puede usar junto con \2",
        ),
        (
            r"^argument (.*?): ignored explicit argument (.*)$",
            r"argumento \1: no lleva valor (se escribió \2)",
        ),
        (
            r"^ambiguous option: (.*?) could match (.*)$",
            r"opción ambigua: \1 puede ser \2",
        ),
        (
            r"^one of the arguments (.*) is required$",
            r"se necesita uno de estos argumentos: \1",
        ),
    )
)


def spanish_error(message: str) -> str:
    """argparse's English error message in Spanish (unknown ones are left as they are)."""
    for pattern, spanish in _ERRORS:
        if pattern.match(message):
            return pattern.sub(spanish, message)
    return message


class SpanishHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with a Spanish «uso:» line; descriptions and examples keep their line breaks."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


class SpanishArgumentParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` that speaks Spanish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", SpanishHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opciones"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            2,
            f"{self.prog}: error: {spanish_error(message)}\n(«{self.prog} -h» muestra la ayuda)\n",
        )
