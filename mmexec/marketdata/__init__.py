"""Market data: recorded captures (Binance, Bybit) normalised to integer-grid events, order books, merging."""
