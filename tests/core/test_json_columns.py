"""JSON columns are read by `decode_json`: orjson, with the standard decoder for what orjson
refuses, so that every value the service stored still reads, and reads the same; values a
bulk insert encodes ahead with orjson (`EncodedJSON`) read back as the standard encoding."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.db import EncodedJSON, create_db_engine, decode_json, encode_json

STORED = [
    '[{"activity_id": "act_1", "amount": "1049.33", "quantity": "1234.5", "rate": 0.1}]',
    '{"name": "Appels entrants \\u00e9t\\u00e9", "details": {"a": [1, 2, 3], "b": null}}',
    '"\\ud800"',  # a lone surrogate, as json.dumps writes it: orjson refuses it
    "9223372036854775807",
]


@pytest.mark.parametrize("text", STORED)
def test_every_stored_value_decodes_as_the_standard_decoder_does(text: str) -> None:
    assert decode_json(text) == json.loads(text)
    assert decode_json(text.encode("utf-8")) == json.loads(text)  # psycopg may pass bytes


@pytest.mark.parametrize(
    "url", ["sqlite:///{tmp}/json.db", "postgresql+psycopg://user@127.0.0.1:1/none"]
)
def test_both_databases_read_json_columns_with_it(url: str, tmp_path: Path) -> None:
    engine = create_db_engine(url.format(tmp=tmp_path))  # no connection is opened
    assert engine.dialect._json_deserializer is decode_json  # type: ignore[attr-defined]


VALUES = [
    {"lines": [{"activity_id": "act_1", "amount": "1049.33", "name": "Appels été"}], "n": 3},
    ["\ud800"],  # a lone surrogate: orjson refuses it, the standard encoder stores it
    {"big": 2**70},  # beyond 64 bits: orjson refuses it
    {1: "a key that is not a string"},
]


@pytest.mark.parametrize("value", VALUES)
def test_a_value_encoded_once_reads_back_as_the_standard_encoding_does(value: object) -> None:
    encoded = EncodedJSON.of(value)
    assert json.loads(encode_json(encoded)) == json.loads(json.dumps(value))


def test_only_plain_json_values_are_encoded_ahead() -> None:
    assert isinstance(EncodedJSON.of({"a": ["b", 1, None, True]}), EncodedJSON)
    for refused in ({"at": datetime(2026, 10, 1, tzinfo=UTC)}, ["\ud800"], {1: 2}):
        assert EncodedJSON.of(refused) is refused  # left to the standard encoder


@pytest.mark.parametrize(
    "url", ["sqlite:///{tmp}/json.db", "postgresql+psycopg://user@127.0.0.1:1/none"]
)
def test_both_databases_write_json_columns_with_it(url: str, tmp_path: Path) -> None:
    engine = create_db_engine(url.format(tmp=tmp_path))  # no connection is opened
    assert engine.dialect._json_serializer is encode_json  # type: ignore[attr-defined]
