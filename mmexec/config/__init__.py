"""Layered configuration: command-line flag > ``MMEXEC_<TABLE>__<KEY>`` env > TOML ``[table]`` > default.

Everything about configuration names lives in this package: the settings models (one per TOML table), the
config-file lookup, and the origin of every effective value (for ``mmexec config show``).
"""
