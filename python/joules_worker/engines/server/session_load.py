"""The multi-turn load (``load.sessions``): sessions on the chat API, each sending its user turns in
order, every request carrying the history so far, as guidellm's multi-turn benchmark does: the
system message where there is one, then the user turns and, between them, the SERVER's own answer
to each (its streamed content; the reasoning of a reasoning model is not part of the history), so
that the history the server prefills is the one it produced. Between an answer's end and the next
turn the session waits its think time (session_plan.py).

The load pattern starts sessions: ``closed_loop`` runs ``concurrency`` sessions at a time (each
user starting its next session when the last ends), ``constant`` / ``poisson`` / ``bursty`` start one
at each arrival (``scheduled_s`` and ``send_lag_s`` on a session's first turn). ``load.sessions.count``
and ``load.duration_s`` bound it: no session starts, and no turn is sent, after ``duration_s`` (a
session whose next pause would end past it stops there: no idle tail in the window). A session is
*complete* when every turn of its script was answered; a failed turn ends its session (there is no
answer to carry), its request kept as data. Each record carries ``session`` and ``turn``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from joules_worker.engines.server import clock
from joules_worker.engines.server.http_stream import RequestRecord
from joules_worker.engines.server.load_generator import Target, client_lag, client_session, send_request, until
from joules_worker.engines.server.load_patterns import Arrival
from joules_worker.engines.server.session_plan import SessionPlan

logger = logging.getLogger(__name__)


def answer_of(record: RequestRecord) -> str:
    """The answer's content: the streamed text without its reasoning (sent before the answer)."""
    thought = getattr(record, "reasoning_text", "")
    if thought and record.text.startswith(thought):
        return record.text[len(thought) :]
    return record.text


class SessionLoad:
    def __init__(
        self, target: Target, plan: SessionPlan, max_tokens: int, count: int | None, duration_s: float | None
    ) -> None:
        self.target, self.plan, self.max_tokens, self.count = target, plan, max_tokens, count
        self.duration_s = duration_s
        self.restart()
        self.records: list[RequestRecord] = []
        self.started = 0
        self.complete: set[int] = set()
        self.think_waited: list[float] = []  # the pauses before the turns sent
        self._index = 0

    def restart(self) -> None:
        """The load starts now (its deadline ``duration_s`` after)."""
        self.start = clock.now()
        self.deadline = None if self.duration_s is None else self.start + self.duration_s

    def past(self, at: float | None = None) -> bool:
        return self.deadline is not None and (clock.now() if at is None else at) >= self.deadline

    def next_session(self) -> tuple[int, Any] | None:
        """(number, script) of the next session to start, or None: count, deadline or dataset reached."""
        if (self.count is not None and self.started >= self.count) or self.past():
            return None
        script = self.plan.script(self.started)
        if script is None:
            return None
        self.started += 1
        return self.started - 1, script

    async def session(self, http: Any, s: int, script: Any, scheduled: float | None = None) -> None:
        messages = [{"role": "system", "content": script.system}] if script.system else []
        for j, turn in enumerate(script.turns):
            if j:
                pause = script.think_s[j - 1]
                if self.past(clock.now() + pause):
                    return
                await asyncio.sleep(pause)
            if self.past():
                return
            if j:
                self.think_waited.append(script.think_s[j - 1])
            messages.append({"role": "user", "content": turn})
            index, self._index = self._index, self._index + 1
            history = list(messages)
            self.plan.sent[index] = history
            first = scheduled if j == 0 else None
            tokens = (script.max_tokens[j] if j < len(script.max_tokens) else None) or self.max_tokens
            own = self.plan.own_fields(tokens)  # lengths.output: the turn's answer length held
            r = await send_request(http, self.target, index, history, tokens, first, own)
            r.session, r.turn = s, j + 1
            self.records.append(r)
            if not r.ok:
                return
            messages.append({"role": "assistant", "content": answer_of(r)})
        self.complete.add(s)

    async def closed(self, concurrency: int) -> None:
        async def user(http: Any) -> None:
            while (nxt := self.next_session()) is not None:
                await self.session(http, *nxt)

        async with client_session(concurrency) as http:
            await asyncio.gather(*(user(http) for _ in range(concurrency)))

    async def open(self, arrivals: Sequence[Arrival], max_connections: int = 10_000) -> None:
        loop = asyncio.get_running_loop()
        tasks = []
        async with client_session(max_connections) as http:
            start_mono = loop.time()
            self.restart()
            for a in arrivals:
                await until(loop, start_mono + a.offset_s)
                nxt = self.next_session()
                if nxt is None:
                    break
                tasks.append(asyncio.ensure_future(self.session(http, *nxt, a.offset_s)))
            await asyncio.gather(*tasks)
        for r in self.records:
            if r.scheduled_s is not None:
                r.send_lag_s = max(r.send_unix_s - (self.start + r.scheduled_s), 0.0)
        p99, threshold = client_lag(self.records)
        if p99 is not None and p99 > threshold:
            logger.warning(
                "the load generator fell behind its session starts: p99 send lag %.1f ms > %.1f ms",
                p99 * 1000,
                threshold * 1000,
            )


def run_sessions(
    target: Target,
    plan: SessionPlan,
    schedule: Sequence[Arrival] | None,
    *,
    concurrency: int | None,
    count: int | None,
    duration_s: float | None,
    max_tokens: int,
) -> SessionLoad:
    """The session load run to its end (records in send order, by ``index``)."""
    load = SessionLoad(target, plan, max_tokens, count, duration_s)
    asyncio.run(load.closed(concurrency or 1) if schedule is None else load.open(schedule))
    load.records.sort(key=lambda r: r.index)
    return load
