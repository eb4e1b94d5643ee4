from __future__ import annotations

import json
import logging

from config.logs import JsonFormatter


def test_a_log_record_becomes_one_json_line_with_its_extra_fields() -> None:
    record = logging.LogRecord(
        "crux.test", logging.WARNING, __file__, 1, "sweep %s", ("late",), None
    )
    record.question_id = 7

    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert "\n" not in line
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING",
        "crux.test",
        "sweep late",
    )
    assert entry["question_id"] == 7 and entry["time"].endswith("+00:00")


def test_an_exception_is_kept_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "crux", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )

    entry = json.loads(JsonFormatter().format(record))

    assert "ValueError: boom" in entry["exception"]
