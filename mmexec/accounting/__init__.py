"""Accounting of a run: PnL, the fee ledger, reconciliation and markouts of fills (one money context, mmexec.money)."""
