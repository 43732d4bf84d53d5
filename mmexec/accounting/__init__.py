"""Accounting of a run: PnL, the fee ledger, reconciliation, markouts of fills and the timeline (one money context,
mmexec.money)."""
