"""messages.encode: compact JSON text, the same values as the standard library would write."""

from __future__ import annotations

import json
import math

import numpy as np

from hrvcalm.events import Beat, Metrics
from hrvcalm.server import messages


def test_messages_round_trip_as_compact_text() -> None:
    m = Metrics(t_s=12.5, rmssd_ms=41.123456789012345, sdnn_ms=8.036918959549474e-05, n_beats=7)
    for message in (messages.metrics(m), messages.beat(Beat(t_s=1.0, rr_ms=1000.0))):
        text = messages.encode(message)
        assert isinstance(text, str)
        assert " " not in text
        assert json.loads(text) == message


def test_nan_and_infinity_become_null_at_any_depth() -> None:
    text = messages.encode({"type": "x", "a": math.nan, "b": [math.inf], "c": {"d": -math.inf}})
    assert json.loads(text) == {"type": "x", "a": None, "b": [None], "c": {"d": None}}


def test_numpy_scalars_are_numbers() -> None:
    message = {"type": "x", "f": np.float64(1.25), "i": np.int64(3), "nan": np.float64("nan")}
    assert json.loads(messages.encode(message)) == {"type": "x", "f": 1.25, "i": 3, "nan": None}


def test_what_orjson_refuses_is_written_as_the_standard_library_writes_it() -> None:
    message = {"type": "x", "ratings": {1: "one"}, "big": 2**70, "nan": math.nan}
    expected = '{"type":"x","ratings":{"1":"one"},"big":1180591620717411303424,"nan":null}'
    assert messages.encode(message) == expected
