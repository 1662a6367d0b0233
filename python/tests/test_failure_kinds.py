"""contract/failure-kinds.json is the one list of failure kinds and exit codes; errors.py must match it.

packages/launcher/src/failure-kinds.test.ts holds the TypeScript side to the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

from joules_worker.errors import ERRORS_BY_KIND

CONTRACT = Path(__file__).resolve().parents[2] / "contract" / "failure-kinds.json"


def test_every_worker_error_is_in_the_contract_with_its_exit_code():
    kinds = {k["kind"]: k["exit_code"] for k in json.loads(CONTRACT.read_text())["kinds"]}
    assert {kind: cls.exit_code for kind, cls in ERRORS_BY_KIND.items()} == kinds


def test_exit_codes_are_distinct_and_never_0_or_2():
    codes = [k["exit_code"] for k in json.loads(CONTRACT.read_text())["kinds"]]
    assert len(set(codes)) == len(codes)
    assert not {0, 2} & set(codes)  # 0 is success; 2 is argparse's usage error
