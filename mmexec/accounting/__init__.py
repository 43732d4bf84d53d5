"""Accounting of a run: money, positions and what happened when (fee ledger, PnL, markouts, timeline)."""
