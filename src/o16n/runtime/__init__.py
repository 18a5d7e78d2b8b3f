"""Worker processes that run user code, and the web-process side that drives them.

The worker imports this package, so it re-exports nothing: the parent side lives in
`o16n.runtime.process`, the frames in `o16n.runtime.protocol`, the limits in
`o16n.runtime.limits`.
"""

__all__: list[str] = []
