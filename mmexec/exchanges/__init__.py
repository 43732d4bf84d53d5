"""Exchange clients behind one protocol: the deterministic fake and the Bybit V5 dry-run adapter."""
