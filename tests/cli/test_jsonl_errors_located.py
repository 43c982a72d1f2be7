"""A JSON Lines line that is not JSON is located within the line: an unfinished line such as
``{"broken": `` was reported at "line 2 column 1" (the line's own end read as a second line), where
the same text in a .json file is at line 1, column 12."""

from __future__ import annotations

import pytest

from ecei_rules.batch import RawLine, _line_item, parse_json
from ecei_rules.errors import AssessmentError


@pytest.mark.parametrize("text", ['{"broken": ', '{"a": 1,', '[1, 2', '{"a": tru'])
def test_an_unfinished_line_is_located_where_the_same_text_alone_is(text: str) -> None:
    with pytest.raises(AssessmentError) as alone:
        parse_json(text)
    with pytest.raises(AssessmentError) as in_a_file:
        RawLine(text + "\n").parse()
    where = [(d.line, d.column, d.message) for d in alone.value.diagnostics]
    assert [(d.line, d.column, d.message) for d in in_a_file.value.diagnostics] == where
    parsed = _line_item(7, text + "\n", raw=False)  # read and parsed at once (as impact's workers do)
    assert parsed is not None
    assert parsed.error is not None
    assert [(d.line, d.column, d.message) for d in parsed.error.diagnostics] == where
    assert where[0][0] == 1
    assert where[0][1] is not None
    assert 1 <= where[0][1] <= len(text) + 1  # within the line
