"""What each request body carries besides the prompt: the experiment's decoding settings in the
server's dialect, and the streaming options; and what a server that rejects a field said.

Dialects (``server.dialect``):
- ``vllm``: vLLM's sampling fields, as ``vllm bench serve`` sends them and more: ``temperature`` (0 for
  greedy), ``top_p``, ``top_k``, ``min_p: 0``, ``repetition_penalty: 1.0`` (vLLM's client pins it),
  ``min_tokens`` (``min_output_tokens``), and ``stream_options.continuous_usage_stats`` (every chunk
  carries the running token count: ITL per token). vLLM otherwise takes these from the model's
  ``generation_config`` (``--generation-config auto``), so each is sent. And ``cache_salt``, one
  random salt per experiment: a server shared by a suite keeps its prefix cache, and without the
  salt an experiment's prompts would hit the blocks an earlier experiment left (its TTFT and
  prefill energy low, and dependent on the order of experiments). Within an experiment the salt is
  the same, so ``load.prompt_reuse`` and ``load.shared_prefix_tokens`` hit as they should.
- ``openai``: OpenAI's fields only (``transformers serve`` rejects any other): ``temperature`` (0 for
  greedy), ``top_p``, ``frequency_penalty: 0`` (neutral in OpenAI's API; transformers serve maps it to
  ``repetition_penalty`` 1.0). A ``top_k`` or ``min_output_tokens`` it cannot carry is an error.
- ``auto``: ``vllm`` when ``GET /v1/models`` names vLLM as the owner of a model, else ``openai``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import urllib.request
from typing import Any

from joules_worker.errors import BadConfigError

logger = logging.getLogger(__name__)
USAGE = {"include_usage": True}
CONTINUOUS_USAGE = {"include_usage": True, "continuous_usage_stats": True}


# A request's prompt: a text, or (chat API) the messages so far (a session's history and its new turn).
Prompt = str | list[dict[str, str]]


def request_body(
    api: str,
    model: str,
    prompt: Prompt,
    max_tokens: int,
    extra: dict[str, Any],
    fields: dict[str, Any] | None = None,
    own: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One streamed request: ``fields`` (the dialect's, see ``body_fields``), then ``own`` (this
    request's, e.g. the ``min_tokens`` that holds it to a drawn answer length), then ``extra``
    (``server.extra_body``, sent as given: it wins). A list ``prompt`` is the chat messages as given."""
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "stream": True, "stream_options": USAGE}
    if api == "chat":
        body["messages"] = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    body.update(fields or {})
    body.update(own or {})
    body.update(extra)
    return body


def endpoint(base_url: str, api: str) -> str:
    return base_url.rstrip("/") + ("/v1/chat/completions" if api == "chat" else "/v1/completions")


def detect_dialect(base_url: str, timeout_s: float = 5.0) -> tuple[str, str]:
    """(dialect, why) from ``GET /v1/models``: vLLM answers ``owned_by: "vllm"``."""
    url = base_url.rstrip("/") + "/v1/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 (the server's own URL)
            data = json.loads(resp.read())
    except (OSError, ValueError) as e:
        return "openai", f"GET {url} failed ({type(e).__name__}): not known to be vLLM"
    models = data.get("data") if isinstance(data, dict) else None
    owners = {m.get("owned_by") for m in models or [] if isinstance(m, dict)}
    if "vllm" in owners:
        return "vllm", f'GET {url}: owned_by "vllm"'
    return "openai", f"GET {url}: owners {sorted(str(o) for o in owners)}, not vLLM"


def body_fields(dialect: str, decoding: Any, min_output_tokens: int, why: str = "") -> dict[str, Any]:
    """The decoding fields (and stream options) of every request in ``dialect`` ("vllm" | "openai").
    ``decoding``: the experiment's (mode, temperature, top_p, top_k). Raises BadConfigError for a
    setting the dialect cannot carry."""
    sampling = decoding.mode == "sampling"
    fields: dict[str, Any] = {
        "temperature": (1.0 if decoding.temperature is None else decoding.temperature) if sampling else 0.0
    }
    if sampling:
        fields["top_p"] = 1.0 if decoding.top_p is None else decoding.top_p
    if dialect == "vllm":
        fields.update(
            top_k=(decoding.top_k or 0) if sampling else 0,
            min_p=0.0,
            repetition_penalty=1.0,
            min_tokens=min_output_tokens,
            stream_options=CONTINUOUS_USAGE,
            cache_salt=f"joules-{secrets.token_hex(8)}",
        )
        return fields
    because = f" ({why})" if why else ""
    if sampling and decoding.top_k:
        raise BadConfigError(
            f"decoding.top_k: {decoding.top_k} cannot be sent with server.dialect openai{because}: OpenAI's API has "
            "no top_k; set server.dialect: vllm if the server accepts vLLM's fields, or decoding.top_k: null"
        )
    if min_output_tokens:
        raise BadConfigError(
            f"min_output_tokens: {min_output_tokens} cannot be sent with server.dialect openai{because}: OpenAI's "
            "API has no min_tokens; set server.dialect: vllm if the server accepts vLLM's fields, or min_output_tokens: 0"
        )
    fields["frequency_penalty"] = 0.0
    return fields


def rejected_fields(answer: str, body: dict[str, Any]) -> list[str]:
    """The request fields a 4xx ``answer`` says the server does not accept, among those ``body`` sent:
    transformers serve's ``{"detail": "Unexpected fields in the request: {...}"}``, pydantic's
    ``{"detail": [{"type": "extra_forbidden", "loc": ["body", F]}]}``, OpenAI's ``{"error":
    {"message": "Unrecognized request argument supplied: F", "param": F}}``."""
    try:
        data = json.loads(answer)
    except ValueError:
        data = None
    named: list[str] = []
    detail = data.get("detail") if isinstance(data, dict) else None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(detail, list):
        for item in detail:
            loc = item.get("loc") if isinstance(item, dict) else None
            if isinstance(loc, list) and len(loc) > 1 and loc[0] == "body":
                named.append(".".join(str(p) for p in loc[1:]))
    elif isinstance(error, dict) and isinstance(error.get("param"), str):
        named.append(error["param"])
    text = detail if isinstance(detail, str) else error.get("message") if isinstance(error, dict) else answer
    if isinstance(text, str) and not named:
        m = re.search(
            r"(?:unexpected|unrecognized|unknown|extra|unsupported)[^:]*:(.*)", text, re.IGNORECASE | re.DOTALL
        )
        if m:
            named = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", m.group(1))
    out = []
    for name in named:
        if name.split(".")[0] in body and name not in out:
            out.append(name)
    return out


def rejection_hint(record: Any, target: Any) -> str:
    """Which config key sent each field ``record`` was rejected for (``target``: the load's Target)."""
    fields = record.rejected_fields
    extra = [f for f in fields if f.split(".")[0] in target.extra_body]
    ours = [f for f in fields if f not in extra and f.split(".")[0] in target.fields]
    parts = []
    if ours:
        fix = (
            "set server.dialect: openai" if target.dialect == "vllm" else "set server.dialect to what the server speaks"
        )
        parts.append(f"{', '.join(ours)} sent for server.dialect {target.dialect} ({fix})")
    if extra:
        parts.append(f"{', '.join(extra)} from server.extra_body (remove it there)")
    return f" [{'; '.join(parts)}]" if parts else ""


def dialect_fields(server: Any, decoding: Any, min_output_tokens: int) -> tuple[str, dict[str, Any]]:
    """(dialect, its body fields) for the experiment's ``server`` and decoding; ``auto`` asks the server."""
    dialect, why = (server.dialect, "") if server.dialect != "auto" else detect_dialect(server.url)
    if why:
        logger.info("server.dialect auto: %s (%s)", dialect, why)
        why = f"auto: {why}"
    return dialect, body_fields(dialect, decoding, min_output_tokens, why)
