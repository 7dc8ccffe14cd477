"""FastAPI peer of the churn service, used only by the benchmark.

The decision tree is fitted by train.py during setup.sh and loaded with joblib at
start-up; a batch of customers is validated by Pydantic v2, encoded into one numpy
matrix and scored with a single predict_proba call.
"""

from __future__ import annotations

import gc
import os
from contextlib import asynccontextmanager
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import joblib
import numpy as np
import sklearn
from fastapi import FastAPI
from pydantic import BaseModel, Field

from features import CATEGORIES, FEATURE_NAMES, INPUTS, N_FEATURES, ONE_HOT_COLUMNS, SCALAR_COLUMNS

MODEL_PATH = Path(os.environ.get("MODEL_PATH", Path(__file__).resolve().parent / "artifacts" / "model.joblib"))
MODEL_INFO = {"name": "telco-churn-sklearn", "version": "bench"}
MAX_INSTANCES = 1000

# Pydantic rejects NaN/Infinity below (allow_inf_nan=False), so sklearn's finiteness scan of
# every input matrix is redundant; skipping it is sklearn's documented speed-up.
sklearn.set_config(assume_finite=True)

Flag = Literal[0, 1]
NoYesNoInternet = Literal["No", "Yes", "No internet service"]


class Customer(BaseModel):
    """One customer; every field is required, unknown fields are ignored."""

    female: Flag
    senior_citizen: Flag
    partner: Flag
    dependents: Flag
    tenure: Annotated[int, Field(ge=0)]
    phone_service: Flag
    multiple_lines: Literal["No", "Yes", "No phone service"]
    internet_service: Literal["DSL", "Fiber optic", "No"]
    online_security: NoYesNoInternet
    online_backup: NoYesNoInternet
    device_protection: NoYesNoInternet
    tech_support: NoYesNoInternet
    streaming_tv: NoYesNoInternet
    streaming_movies: NoYesNoInternet
    contract: Literal["Month-to-month", "One year", "Two year"]
    paperless_billing: Flag
    payment_method: Literal[
        "Bank transfer (automatic)", "Credit card (automatic)", "Electronic check", "Mailed check"
    ]
    monthly_charges: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    # Required but nullable: null means not billed yet (tenure 0) and is encoded as 0.
    total_charges: Annotated[float | None, Field(ge=0, allow_inf_nan=False)]


class PredictRequest(BaseModel):
    instances: Annotated[list[Customer], Field(min_length=1, max_length=MAX_INSTANCES)]


class ModelInfo(BaseModel):
    name: str
    version: str


class Prediction(BaseModel):
    churn: bool
    probability: float


class PredictResponse(BaseModel):
    model: ModelInfo
    predictions: list[Prediction]


# The request schema and the encoding must agree on inputs and category values.
assert tuple(Customer.model_fields) == INPUTS
for _name, _values in CATEGORIES.items():
    assert get_args(Customer.model_fields[_name].annotation) == _values, _name

_SCALARS = tuple(SCALAR_COLUMNS)  # flags and numbers, in vector-column order
_SCALAR_INDEX = np.array([SCALAR_COLUMNS[name] for name in _SCALARS])
_TOTAL_CHARGES = _SCALARS.index("total_charges")
_get_scalars = attrgetter(*_SCALARS)
_ONE_HOT = tuple(ONE_HOT_COLUMNS.values())
_get_categories = attrgetter(*ONE_HOT_COLUMNS)


def encode(customers: list[Customer]) -> np.ndarray:
    """Encode validated customers into an (n, 40) float32 matrix (the tree's own dtype)."""
    n = len(customers)
    scalars = np.array([_get_scalars(c) for c in customers], dtype=np.float32)  # None -> NaN
    # Only total_charges may be None; validation rejects NaN, so NaN here means null -> 0.
    np.nan_to_num(scalars[:, _TOTAL_CHARGES], copy=False, nan=0.0)
    hot = np.array(
        [[columns[value] for columns, value in zip(_ONE_HOT, _get_categories(c))] for c in customers],
        dtype=np.intp,
    )
    x = np.zeros((n, N_FEATURES), dtype=np.float32)
    x[:, _SCALAR_INDEX] = scalars
    x[np.arange(n)[:, None], hot] = 1.0
    return x


state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: FastAPI):
    artifact = joblib.load(MODEL_PATH)
    if tuple(artifact["feature_names"]) != FEATURE_NAMES:
        raise RuntimeError(f"{MODEL_PATH} was trained on other features; run setup.sh again")
    model = artifact["model"]
    # Warm-up: the first predict_proba pays for lazy imports and checks; do it before serving.
    model.predict_proba(np.zeros((1, N_FEATURES), dtype=np.float32))
    state["model"] = model
    # The ~100k long-lived objects from the imports (SciPy, scikit-learn, FastAPI) would be rescanned by
    # every full garbage collection, a pause of tens of ms that large batches trigger regularly; freeze
    # them out of the collector's view, the usual tuning for long-running Python servers. (No
    # gc.collect() first: it would add ~60 ms to the cold start to free a little import garbage.)
    gc.freeze()
    yield
    state.clear()


app = FastAPI(title="telco-churn-sklearn (benchmark peer)", lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


# `async def`: the work is short and CPU-bound, and with one worker on one core a thread pool
# would add a hand-off per request without adding parallelism.
@app.post("/predict", response_model=PredictResponse)
async def predict(request: PredictRequest) -> Any:
    probabilities = state["model"].predict_proba(encode(request.instances))[:, 1].tolist()
    # A plain dict: FastAPI validates and serialises it against PredictResponse in pydantic-core.
    return {
        "model": MODEL_INFO,
        "predictions": [{"churn": p >= 0.5, "probability": p} for p in probabilities],
    }
