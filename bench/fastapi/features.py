"""Feature encoding shared by train.py (CSV rows) and app.py (validated requests).

One column per 0/1 flag, one per number (a missing total_charges is 0: the customer
has not been billed yet), and one-hot columns for each category over its allowed
values in the order of training/data/README.md; the columns follow the CSV's column
order (e.g. `female`, ..., `tenure`, `phone_service`, `multiple_lines=No`, ...). 6 flags
+ 3 numbers + 31 one-hot = 40 columns.
"""

from __future__ import annotations

FLAGS: tuple[str, ...] = (
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "phone_service",
    "paperless_billing",
)

NUMBERS: tuple[str, ...] = ("tenure", "monthly_charges", "total_charges")

_NO_YES_NO_INTERNET = ("No", "Yes", "No internet service")

CATEGORIES: dict[str, tuple[str, ...]] = {
    "multiple_lines": ("No", "Yes", "No phone service"),
    "internet_service": ("DSL", "Fiber optic", "No"),
    "online_security": _NO_YES_NO_INTERNET,
    "online_backup": _NO_YES_NO_INTERNET,
    "device_protection": _NO_YES_NO_INTERNET,
    "tech_support": _NO_YES_NO_INTERNET,
    "streaming_tv": _NO_YES_NO_INTERNET,
    "streaming_movies": _NO_YES_NO_INTERNET,
    "contract": ("Month-to-month", "One year", "Two year"),
    "payment_method": (
        "Bank transfer (automatic)",
        "Credit card (automatic)",
        "Electronic check",
        "Mailed check",
    ),
}

# The 19 inputs in the CSV's column order, which is also the order of the vector columns.
INPUTS: tuple[str, ...] = (
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "tenure",
    "phone_service",
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "paperless_billing",
    "payment_method",
    "monthly_charges",
    "total_charges",
)
assert sorted(INPUTS) == sorted((*FLAGS, *NUMBERS, *CATEGORIES))

# Column of each flag/number, and column of each (category, value) one-hot.
SCALAR_COLUMNS: dict[str, int] = {}
ONE_HOT_COLUMNS: dict[str, dict[str, int]] = {}
_names: list[str] = []
for _input in INPUTS:
    if _input in CATEGORIES:
        ONE_HOT_COLUMNS[_input] = {}
        for _value in CATEGORIES[_input]:
            ONE_HOT_COLUMNS[_input][_value] = len(_names)
            _names.append(f"{_input}={_value}")
    else:
        SCALAR_COLUMNS[_input] = len(_names)
        _names.append(_input)

FEATURE_NAMES: tuple[str, ...] = tuple(_names)
N_FEATURES = len(FEATURE_NAMES)
assert N_FEATURES == len(FLAGS) + len(NUMBERS) + sum(map(len, CATEGORIES.values())) == 40
