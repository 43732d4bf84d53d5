"""Value types and bounds shared by the settings tables (docs/configuration.md, "Value bounds").

Money fits comfortably (up to 1e12 USD, 8 decimals), bps stay within ±10,000 (100 %), every integer fits in 64
bits, and ms values stay below 2**53 so any JSON reader keeps them exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

MAX_USD = Decimal("1000000000000")  # 1e12 USD: any book fits, a typo like 1e309 does not
MAX_PRICE = Decimal("1000000000")  # 1e9 USD per unit
MAX_BPS = Decimal("10000")  # 100 %
MAX_MS = 2**53 - 1  # exact in every JSON reader (and far inside 64 bits)
MAX_INT64 = 2**63 - 1

Rate = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_USD, decimal_places=8, allow_inf_nan=False)]
RefPrice = Annotated[Decimal, Field(gt=0, le=MAX_PRICE, decimal_places=12, allow_inf_nan=False)]
Bps = Annotated[Decimal, Field(ge=-MAX_BPS, le=MAX_BPS, decimal_places=6, allow_inf_nan=False)]
