"""The names under which the load test reports the loop's steps (bench/locustfile.py sends them,
bench/load_cases.py reads them back from gunicorn's access log)."""

STEP_NAMES = {
    "accept": "3 accept (受理)", "dispatch": "4 dispatch (派单)", "take": "5 take and start (接单)",
    "resolve": "6 resolve (办结)", "verify": "7 verify (核查)", "rate": "8 rate (评价)", "close": "9 close (结案)",
}
