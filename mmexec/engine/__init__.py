"""The execution engine: a library with no CLI, terminal, environment or wall-clock access.

Modules: ``ports`` (the protocols adapters implement: Venue, MarketSource, FillListener, JournalHook, ...),
``clock`` (virtual time), ``models`` (orders, fills, quotes), ``market`` (instruments, the synthetic market),
``order_store``, ``risk`` (RuntimeRiskMonitor), ``strategy`` (QuotingPolicy), ``book`` (quoting state),
``params`` (ExecutionParams), ``loop`` (ExecutionLoop), ``report`` (the core report sections).
It imports nothing above it (see ``[tool.importlinter]`` in pyproject.toml).
"""
