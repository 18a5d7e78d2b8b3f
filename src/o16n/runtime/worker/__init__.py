"""Everything that runs inside a worker process: the only code that runs user code or unpickles.

Web-process code never imports this package (an import-linter contract says so); it starts
`python -m o16n.runtime.worker <fd>` and speaks `o16n.runtime.protocol` to it. The worker
imports nothing of o16n but this package, the protocol and the limits.
"""
