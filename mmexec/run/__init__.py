"""Run drivers: the replay of recorded market data (the synthetic driver still lives in the engine loop)."""
