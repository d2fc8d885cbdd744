"""Progress of an operation on the terminal, drawn by ``rich`` (the CLI's ``progress``).

The services report the stages of an operation through a ``progress(text)`` callback (the
ribbon shows them in Excel's status bar). On a terminal the CLI shows the same stages on
stderr: the running stage with a moving bar and its elapsed time, and a line for each stage
once it is done. The CLI ends the display (:meth:`TerminalProgress.close`) before it prints
the command's result. When stderr is not a terminal (a pipe, a file, a test) or the output is
JSON, nothing is drawn, so what scripts read stays exactly as it was.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO


class TerminalProgress:
    """A ``progress(text)`` callback drawing on ``stream`` only when it is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = enabled and isatty is not None and bool(isatty())
        self._progress: Any = None
        self._task: Any = None
        self._stage: str | None = None
        self._started = 0.0

    def __call__(self, text: str) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            self._start()
        self._finish_stage()
        self._stage = text
        self._started = time.perf_counter()
        self._progress.reset(self._task, total=None, description=text)

    def _start(self) -> None:
        from rich.console import Console  # loaded only when there is something to draw
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(file=self.stream, stderr=self.stream is sys.stderr, highlight=False)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("", total=None)

    def _finish_stage(self) -> None:
        """The running stage gets its «done» line, with the seconds it took."""
        if self._stage is None:
            return
        seconds = f"{time.perf_counter() - self._started:.1f}".replace(".", ",")
        self._progress.console.print(f"[green]✓[/green] {self._stage} [dim]{seconds} s[/dim]")
        self._stage = None

    def close(self) -> None:
        """End the display: the last stage gets its line, the bar goes away."""
        if self._progress is None:
            return
        self._finish_stage()
        progress, self._progress = self._progress, None
        progress.stop()

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            self._stage = None  # a stage that failed gets no «done» line
        self.close()
