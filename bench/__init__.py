"""The benchmark harness of issue 7: `python -m bench` (see bench/__main__.py)."""
