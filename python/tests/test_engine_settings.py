"""The serving engine's config sections on the worker side: defaults, types, the pattern rules."""

from __future__ import annotations

import pytest
from conftest import base_experiment

from joules_worker.config import ExperimentConfig
from joules_worker.errors import BadConfigError


def serving(**load: object) -> dict:
    data = base_experiment("/m")
    data["engine"] = "server"
    data["server"].update(url="http://127.0.0.1:1", devices=[], extra_body={"ignore_eos": True})
    data["load"].update({"concurrency": 2, "num_requests": 4, **load})
    return data


def test_a_server_experiment_builds_with_its_free_form_extra_body() -> None:
    c = ExperimentConfig.from_dict(serving())
    assert c.engine == "server" and c.load.concurrency == 2 and c.server.extra_body == {"ignore_eos": True}


def test_the_fixture_default_is_the_transformers_engine() -> None:
    assert ExperimentConfig.from_dict(base_experiment("/m")).engine == "transformers"


@pytest.mark.parametrize(
    ("load", "message"),
    [
        ({"rate": 5.0}, 'load.rate: not valid with load.pattern "closed_loop"'),
        ({"concurrency": None}, "load.concurrency: required"),
        ({"pattern": "poisson", "concurrency": None}, 'load.rate: required when load.pattern is "poisson"'),
        ({"num_requests": None}, "load.num_requests: set load.num_requests or load.duration_s"),
        ({"concurrency": 0}, "load.concurrency: must be > 0"),
    ],
)
def test_bad_load_names_the_field(load: dict, message: str) -> None:
    with pytest.raises(BadConfigError, match=message.replace("(", r"\(")):
        ExperimentConfig.from_dict(serving(**load))


def test_extra_body_must_be_an_object() -> None:
    data = serving()
    data["server"]["extra_body"] = [1]
    with pytest.raises(BadConfigError, match="server.extra_body: expected an object"):
        ExperimentConfig.from_dict(data)
