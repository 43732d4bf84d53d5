"""The run layer: a RunSpec, its wiring (builder) and its typed result; drivers (synthetic, replay) plug in here."""
