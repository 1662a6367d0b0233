"""Engine "server": an OpenAI-compatible inference server driven by a request load (``engine.py``;
the HTTP client, load patterns and generator, and what is written beside rank-0.json)."""
