"""Workloads (issue 23): conversation datasets, token-length distributions, synthetic prompts."""
