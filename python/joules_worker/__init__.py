"""Joules worker: one rank of an LLM inference measurement (see contract/README.md)."""

import logging

__version__ = "0.1.0"
CONTRACT_VERSION = 1

logging.getLogger(__name__).addHandler(logging.NullHandler())
