"""Pure engines of the catalog module: the catalog parser, the quote engine and the working-day calendar.

No Django here: ``kejing quote`` runs them straight from the policy files, the web pages from the database copy.
"""

from kejing.core.workdays import CalendarError, add_working_days, is_working_day, working_days_between

from .catalog import Catalog, CatalogError, Product, build_catalog, load_catalog
from .quote import ProductQuote, QuoteError, QuoteRequest, interpolate, parse_usage, quote, quote_product

__all__ = [
    "CalendarError",
    "Catalog",
    "CatalogError",
    "Product",
    "ProductQuote",
    "QuoteError",
    "QuoteRequest",
    "add_working_days",
    "build_catalog",
    "interpolate",
    "is_working_day",
    "load_catalog",
    "parse_usage",
    "quote",
    "quote_product",
    "working_days_between",
]
