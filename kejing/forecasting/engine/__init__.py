"""Kejing's forecasting and allocation engines: pure Python (numpy, pandas, statsforecast), no Django.

Public interface (used by the forecasting app and the ``kejing forecast`` / ``kejing allocate`` commands):

* :func:`forecast` — learned blend of local and pooled models, Spring Festival move, intervals; local,
  processes or Dask;
* :func:`backtest` — rolling-origin MASE/WAPE of the Kejing method against SeasonalNaive and AutoETS;
* :func:`allocate` — integer balancing of a supply to customers (proportional or by tier), exact totals;
* :func:`spring_festival` — the festival's Gregorian date for a year.
"""

from .allocation import AllocationError, AllocationResult, Remainder, allocate
from .calendar import festival_month, spring_festival
from .core import ForecastInputError, forecast
from .evaluate import backtest
from .models import Settings

__all__ = [
    "AllocationError",
    "AllocationResult",
    "ForecastInputError",
    "Remainder",
    "Settings",
    "allocate",
    "backtest",
    "festival_month",
    "forecast",
    "spring_festival",
]
