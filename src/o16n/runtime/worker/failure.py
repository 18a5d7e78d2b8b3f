"""User-facing text for exceptions raised by user code: short, without server frames.

Standalone (the worker imports it): it imports nothing from o16n.
"""

from __future__ import annotations

import linecache
import traceback

MAX_FRAMES = 30
MAX_MESSAGE = 20_000


def one_line(error: BaseException | None) -> str:
    """`module.Class: message` of an exception, without a traceback."""
    if error is None:
        return "unknown error"
    return "".join(traceback.format_exception_only(type(error), error)).strip()[-MAX_MESSAGE:]


def remember_source(filename: str, source: str) -> None:
    """Let tracebacks quote the lines of code compiled under `filename`."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def describe(error: BaseException, hidden: str) -> str:
    """A traceback of at most MAX_FRAMES frames, without frames of file `hidden`.

    It ends with `module.Class: message`, as Python prints it.
    """
    report = traceback.TracebackException.from_exception(error, limit=-MAX_FRAMES)
    _drop_frames(report, hidden, set())
    return "".join(report.format()).rstrip("\n")[-MAX_MESSAGE:]


def _drop_frames(report: traceback.TracebackException, hidden: str, seen: set[int]) -> None:
    """Remove the frames of `hidden` from a report and from the exceptions it chains."""
    if id(report) in seen:
        return
    seen.add(id(report))
    report.stack = traceback.StackSummary.from_list(
        [frame for frame in report.stack if frame.filename != hidden]
    )
    for chained in (report.__cause__, report.__context__):
        if chained is not None:
            _drop_frames(chained, hidden, seen)
