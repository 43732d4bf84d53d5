"""Reading run reports: :mod:`.diff` compares two (``mmexec report diff``), :mod:`.show` renders one as tables.

``diff`` is a pure library (stdlib only); ``show`` imports rich. Neither is imported by ``import mmexec``.
"""
