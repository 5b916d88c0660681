"""Benchmarks for `make bench`: they report figures, they never assert them.

    .venv/bin/python -m bench                 everything, then a summary of the headline figures
    .venv/bin/python -m bench.aws_calls       AWS API calls per POST /tickets (moto in-process)
    .venv/bin/python -m bench.cold_start      cold first request vs a bare boto3 baseline
    .venv/bin/python bench/classifier_accuracy.py

Timings are always reported as a ratio against a baseline measured in the same run, so they
compare across machines; absolute seconds are printed only as context.
"""
