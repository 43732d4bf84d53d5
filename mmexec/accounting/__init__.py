"""Accounting of a run: PnL, the fee ledger and reconciliation (one money context, mmexec.money)."""
