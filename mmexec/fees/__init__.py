"""Fees and rebates: exact ``Decimal`` arithmetic, VIP tiers, per-symbol profiles, the fills file.

Modules: ``schedule`` (FeeSchedule), ``profiles`` (the VIP tiers, build_profile_map, load_profiles), ``calc``
(schedule_for, calc_fees_and_rebates, FeeReport), ``ledger`` (FeeLedger, the run's incremental accumulator),
``fills_io`` (the JSON Lines fills file), ``resolve`` (operator settings -> schedule + profile map).
"""
