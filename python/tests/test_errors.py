"""Failure kinds and exit codes of contract v2, and which real exceptions are transient."""

import errno
import os

import httpx
import pytest
import requests
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from joules_worker.errors import (
    ERRORS_BY_KIND,
    DatasetError,
    TransientError,
    UnsupportedError,
    WorkerError,
    to_worker_error,
    transient_reason,
)


def test_kinds_and_exit_codes():
    assert {k: c.exit_code for k, c in ERRORS_BY_KIND.items()} == {
        "other": 1,
        "bad_config": 3,
        "model_not_found": 4,
        "oom": 5,
        "dataset": 6,
        "transient": 7,
        "unsupported": 8,
        "server_error": 9,
    }
    assert (TransientError.kind, UnsupportedError.kind) == ("transient", "unsupported")


@pytest.fixture(autouse=True)
def online(monkeypatch):
    """The tests run with HF_HUB_OFFLINE=1 (conftest); classification is about online failures."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)


def test_offline_mode_makes_network_misses_final(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert transient_reason(ConnectionError("Couldn't reach 'x' on the Hub (OfflineModeIsEnabled)")) is None
    assert transient_reason(http_error(503)) is None
    assert transient_reason(OSError(errno.ESTALE, "Stale file handle")) == "ESTALE"  # the filesystem still hiccups
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def http_error(status):
    request = httpx.Request("GET", "https://huggingface.co/api/models/x")
    return HfHubHTTPError(f"{status} error", response=httpx.Response(status, request=request))


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_hub_http_5xx_and_429_are_transient(status):
    assert transient_reason(http_error(status)) == f"HTTP {status}"


def test_hub_404_is_not_transient():
    request = httpx.Request("GET", "https://huggingface.co/api/models/x")
    assert transient_reason(RepositoryNotFoundError("nope", response=httpx.Response(404, request=request))) is None
    assert transient_reason(http_error(401)) is None


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        TimeoutError("timed out"),
        OSError(errno.ESTALE, "Stale file handle"),
        OSError(errno.EIO, "Input/output error"),
        OSError(errno.EAGAIN, "Resource temporarily unavailable"),
        httpx.ConnectTimeout("connect timeout"),
        httpx.RemoteProtocolError("peer closed connection"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection aborted"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "errno", "") or ""),
)
def test_network_and_filesystem_hiccups_are_transient(exc):
    assert transient_reason(exc) is not None
    err = to_worker_error(exc)
    assert isinstance(err, TransientError) and err.exit_code == 7 and err.__cause__ is exc


def test_transient_cause_is_found_down_the_chain():
    try:
        try:
            raise httpx.ReadTimeout("slow hub")
        except httpx.ReadTimeout as inner:
            raise OSError("We couldn't connect to 'https://huggingface.co'") from inner
    except OSError as outer:
        assert transient_reason(outer) == "ReadTimeout"


@pytest.mark.parametrize("exc", [FileNotFoundError(errno.ENOENT, "no such file"), ValueError("bad"), KeyError("k")])
def test_ordinary_errors_are_not_transient(exc):
    assert transient_reason(exc) is None
    assert type(to_worker_error(exc)) is WorkerError


def test_worker_errors_pass_through():
    err = DatasetError("x")
    assert to_worker_error(err) is err
