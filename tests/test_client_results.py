"""Parsing the results CSV the way different servers send it."""

from __future__ import annotations

import base64

import pytest

from bot.finetune.errors import ResultsFormatError
from bot.finetune.results import parse_results

AZURE_CSV = (
    "step,train_loss,train_mean_token_accuracy,valid_loss,validation_mean_token_accuracy,"
    "full_valid_loss,full_valid_mean_token_accuracy\n"
    "1,2.5,0.40,2.7,0.38,,\n"
    "2,2.1,0.45,,,,\n"
    "3,1.8,0.52,1.9,0.50,1.95,0.49\n"
    "4,1.6,0.55,,,,\n"
)
OPENAI_CSV = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\r\n1,1.2,0.6,,\r\n2,0.9,0.7,1.0,0.65\r\n"


def test_columns_come_from_the_header() -> None:
    table = parse_results(AZURE_CSV.encode())

    assert table.columns == (
        "step",
        "train_loss",
        "train_mean_token_accuracy",
        "valid_loss",
        "validation_mean_token_accuracy",
        "full_valid_loss",
        "full_valid_mean_token_accuracy",
    )
    assert len(table) == 4
    assert table.rows[1] == {
        "step": 2,
        "train_loss": 2.1,
        "train_mean_token_accuracy": 0.45,
        "valid_loss": None,
        "validation_mean_token_accuracy": None,
        "full_valid_loss": None,
        "full_valid_mean_token_accuracy": None,
    }
    assert isinstance(table.rows[0]["step"], int)


def test_last_row_and_final_losses_use_the_latest_value_of_each_loss() -> None:
    table = parse_results(AZURE_CSV)

    assert table.last() == {
        "step": 4,
        "train_loss": 1.6,
        "train_mean_token_accuracy": 0.55,
        "valid_loss": None,
        "validation_mean_token_accuracy": None,
        "full_valid_loss": None,
        "full_valid_mean_token_accuracy": None,
    }
    assert table.final_losses() == {"train_loss": 1.6, "valid_loss": 1.9, "full_valid_loss": 1.95}


def test_base64_encoded_results_are_decoded() -> None:
    encoded = base64.b64encode(OPENAI_CSV.encode())

    table = parse_results(encoded)

    assert table.columns == (
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    )
    assert table.column("train_loss") == [1.2, 0.9]
    assert table.final_losses() == {"train_loss": 0.9, "valid_loss": 1.0}


def test_base64_with_line_breaks_and_a_bom_is_decoded() -> None:
    encoded = base64.encodebytes(("\ufeff" + OPENAI_CSV).encode())  # wrapped every 76 characters

    assert parse_results(encoded).column("step") == [1, 2]


def test_header_only_file_has_no_rows() -> None:
    table = parse_results(b"step,train_loss\n")

    assert table.columns == ("step", "train_loss")
    assert table.last() is None
    assert table.final_losses() == {}


@pytest.mark.parametrize("content", [b"", b"not,a,results,file\n1,2,3,4\n", b"\xff\xfe\x00garbage", b"!!!!"])
def test_unreadable_content_is_a_clear_error(content: bytes) -> None:
    with pytest.raises(ResultsFormatError, match="step column"):
        parse_results(content)
