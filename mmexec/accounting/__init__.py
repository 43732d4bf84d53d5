"""Accounting of a run: PnL, the fee ledger, reconciliation and the timeline (one money context, mmexec.money)."""
