"""The execution engine: a library with no CLI, terminal or environment access.

Modules: ``clock`` (virtual time), ``models`` (orders, fills, quotes), ``market`` (synthetic quotes),
``order_store``, ``risk`` (RuntimeRiskMonitor), ``loop`` (ExecutionLoop, run_shadow_demo), ``report``.
"""
