# The paper's two load scenarios, for Locust (headless only; bench/report.ts runs it):
#   WebsiteUser    GET / (the drawing page)
#   PredictUser    POST /api/predict {"pixels": [784]} with real MNIST test digits; a wrong digit is a failure
#   DrawingUser    POST /api/predict {"drawing": {...}} with recorded pen strokes (UCI pendigits); same check
# The digits come from a JSON file the runner writes (STRATUS_LOCUST_DIGITS, STRATUS_LOCUST_DRAWINGS):
# a list of {"label": d, "body": {...}}. STRATUS_LOCUST_WAIT="min,max" is each user's pause between
# requests in seconds (the paper does not give its own).
import csv
import json
import os
import random

import locust.stats
import requests
from locust import HttpUser, between, events, task
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

# Locust 2.12 (Debian 12) flushes --csv files every 10 s and not at exit, so a run's last seconds of
# history were lost; flushing every second keeps them. The final totals are written at exit (below).
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1


def _wait():
    low, high = (float(x) for x in os.environ.get("STRATUS_LOCUST_WAIT", "1,2").split(","))
    return between(low, high)


def _load(variable):
    path = os.environ.get(variable)
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        return [(item["label"], json.dumps(item["body"])) for item in json.load(f)]


DIGITS = _load("STRATUS_LOCUST_DIGITS")
DRAWINGS = _load("STRATUS_LOCUST_DRAWINGS")
HEADERS = {"content-type": "application/json"}
_environment = {}


@events.init.add_listener
def _remember(environment, **_kwargs):
    _environment["it"] = environment


@events.quit.add_listener
def _write_final(**_kwargs):
    """STRATUS_LOCUST_FINAL=prefix: the run's exact totals as prefix_stats.csv / prefix_failures.csv
    (locust's own format), written after the last request, which --csv's files may miss."""
    prefix = os.environ.get("STRATUS_LOCUST_FINAL")
    if not prefix or "it" not in _environment:
        return
    stats_csv = StatsCSV(_environment["it"], PERCENTILES_TO_REPORT)
    with open(f"{prefix}_stats.csv", "w", newline="", encoding="utf-8") as f:
        stats_csv.requests_csv(csv.writer(f))
    with open(f"{prefix}_failures.csv", "w", newline="", encoding="utf-8") as f:
        stats_csv.failures_csv(csv.writer(f))


def _post_and_check(user, samples, name):
    label, body = random.choice(samples)
    with user.client.post("/api/predict", data=body, headers=HEADERS, name=name, catch_response=True) as response:
        if response.status_code != 200:
            response.failure(f"HTTP {response.status_code}")
            return
        try:
            digit = response.json()["digit"]
        except (ValueError, KeyError, TypeError):
            response.failure("answer without a digit")
            return
        if digit != label:
            # A wrong answer is a failed request, as in the paper's accuracy-under-load view.
            response.failure(f"wrong digit: expected {label}")
        else:
            response.success()


class _Visitor(HttpUser):
    """A person with a browser: a session cookie of its own from the start, as the page gives it.
    Stratus limits each client's rate by its session (else its address), and every simulated user here
    comes from the same address. The session is the server's (it signs the ids it issues), fetched
    outside the statistics: it is the visit before the measured ones."""

    abstract = True
    wait_time = _wait()

    def on_start(self):
        first_visit = requests.get(f"{self.host}/", timeout=10)
        self.client.cookies.update(first_visit.cookies)


class WebsiteUser(_Visitor):

    @task
    def page(self):
        with self.client.get("/", name="GET /", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "<canvas" not in response.text:
                response.failure("page without its canvas")
            else:
                response.success()


class PredictUser(_Visitor):

    @task
    def predict(self):
        _post_and_check(self, DIGITS, "POST /api/predict (pixels)")


class DrawingUser(_Visitor):

    @task
    def predict_drawing(self):
        _post_and_check(self, DRAWINGS, "POST /api/predict (drawing)")
