"""Joules worker: one rank of an LLM inference measurement (contract v2: contract/V2.md)."""

import logging

__version__ = "0.1.0"
CONTRACT_VERSION = 2
RAW_MEASUREMENT_VERSION = 3  # rank-<r>.json (raw_measurement.py says what v3 adds)

logging.getLogger(__name__).addHandler(logging.NullHandler())
