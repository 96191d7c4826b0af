"""`--where EXPR`: a JMESPath expression asked of each record's schema-v1 object.

The expression is compiled, and its function calls checked (name and arity), before any call to
the service: a malformed one is a usage error with JMESPath's own message on one line. On each
record it sees the object NDJSON prints (docs/CONTRACT.md), and the record is kept when the result
is truthy in JMESPath's sense: false, null, "", [] and {} are false, everything else (0 too) is
true. An expression that fails on one record (a function given the wrong type, `<` between a
string and a number, where jmespath raises) leaves that record out; `report` counts them in one
warning.

Numbers are numbers: an integer is a Python int with every digit (DynamoDB's 38-digit N values
compare exactly with an integer literal), any other number a float, as JMESPath's own literals
(`` `1.5` ``) are. JMESPath's functions check types by the Python class, so nothing else (Decimal,
orjson.Fragment) can reach them.

Imported only when --where is given: `jmespath` comes with botocore, but `--help` and reads
without --where never load this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jmespath
import orjson
from jmespath import exceptions as jmespath_errors
from jmespath import visitor
from jmespath.functions import Functions
from jmespath.lexer import Lexer
from jmespath.parser import ParsedResult

from streamtail.decode.basic import has_long_number
from streamtail.errors import UsageError

#: the fields of a schema-v1 object that hold payloads (and so can hold orjson.Fragment)
PAYLOAD_FIELDS = ("data", "keys", "new", "old")


#: the hint of a malformed expression: JMESPath's literals are what users trip over
LITERALS_HINT = (
    "in JMESPath a string is 'single-quoted', a number or other JSON value `backticked`: "
    "data.status == 'failed' && data.amount > `100`"
)
_COMPARATORS = frozenset({"eq", "ne", "lt", "gt", "lte", "gte"})


def compile_where(text: str) -> ParsedResult:
    """The compiled expression, or a UsageError naming JMESPath's complaint in one line."""
    try:
        parsed = jmespath.compile(text)
        _check_functions(parsed.parsed)
    except jmespath_errors.JMESPathError as exc:
        raise UsageError(f"invalid --where {text!r}: {_one_line(exc)}", hint=LITERALS_HINT) from exc
    return parsed


def quoted_names(text: str) -> list[str]:
    """Double-quoted names compared with something (`data.status == "failed"`): in JMESPath
    that is a field named failed, not the string; almost always meant as a string. A quoted
    name that a path goes on from (`new."my-field".x`) or that follows a dot is left alone."""
    tokens = list(Lexer().tokenize(text))
    found = []
    for index, token in enumerate(tokens):
        if token["type"] != "quoted_identifier":
            continue
        before = tokens[index - 1]["type"] if index else ""
        after = tokens[index + 1]["type"]
        if after in {"dot", "lbracket", "filter", "flatten"} or before == "dot":
            continue
        if before in _COMPARATORS or after in _COMPARATORS:
            found.append(token["value"])
    return found


def _one_line(exc: jmespath_errors.JMESPathError) -> str:
    """JMESPath's message without the expression and caret it adds on lines of their own."""
    message = str(exc).splitlines()[0].rstrip(":")
    position = getattr(exc, "lex_position", None)
    return message if position is None else f"{message} (at character {position + 1})"


def _check_functions(node: dict[str, Any]) -> None:
    """Unknown functions and wrong argument counts, which jmespath finds only when a record
    reaches the call, raised now with jmespath's own errors."""
    if node.get("type") == "function_expression":
        name = node["value"]
        spec = Functions.FUNCTION_TABLE.get(name)
        if spec is None:
            raise jmespath_errors.UnknownFunctionError(f"Unknown function: {name}()")
        signature, given = spec["signature"], len(node["children"])
        if signature and signature[-1].get("variadic"):
            if given < len(signature):
                raise jmespath_errors.VariadictArityError(len(signature), given, name)
        elif given != len(signature):
            raise jmespath_errors.ArityError(len(signature), given, name)
    for child in node.get("children", ()):
        if isinstance(child, dict):
            _check_functions(child)


def truthy(value: Any) -> bool:
    """JMESPath's truth: false, null, and an empty string, array or object are false."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return bool(value)
    return True


def python_values(obj: dict[str, Any]) -> dict[str, Any]:
    """A schema-v1 object with its payloads as plain Python values: what the NDJSON line holds,
    read back with exact integers (orjson.Fragment payloads and numbers parsed)."""
    for name in PAYLOAD_FIELDS:
        value = obj.get(name)
        if value is not None and not isinstance(value, str | int | float):
            obj[name] = _parse(orjson.dumps(value))
    return obj


def _parse(text: bytes) -> Any:
    # orjson rounds integers beyond 64 bits through float; the standard library keeps them.
    return json.loads(text) if has_long_number(text) else orjson.loads(text)


class Where:
    """One --where filter: the expression, what it is asked of, and the records it failed on."""

    def __init__(self, text: str, view: Callable[[Any], dict[str, Any]] | None = None) -> None:
        self.text = text
        self.expression = compile_where(text)
        # One interpreter for every record: ParsedResult.search builds a new one per call, which
        # costs more than most expressions take to evaluate.
        self._visit = visitor.TreeInterpreter().visit
        self._tree = self.expression.parsed
        #: item -> the object the expression sees (set by the command that attaches the filter)
        self.view = view
        self.failed = 0
        self.first_failure: str | None = None

    def cautions(self) -> list[str]:
        """What the expression likely does not mean (said on stderr before reading)."""
        return [
            f"--where: \"{name}\" is a field name in JMESPath; the string is '{name}'"
            for name in quoted_names(self.text)
        ]

    def seeing(self, view: Callable[[Any], dict[str, Any]]) -> Where:
        """This filter asking its expression of `view(item)`, with its own failure count."""
        return Where(self.text, view)

    def keep(self, item: Any) -> bool:
        assert self.view is not None, "Where.seeing(view) first"
        obj = python_values(self.view(item))
        try:
            return truthy(self._visit(self._tree, obj))
        # jmespath's own errors are ValueErrors; Python's TypeError (`'a' < 1`) comes through
        # it unchanged
        except (TypeError, ValueError) as exc:
            self.failed += 1
            if self.first_failure is None:
                self.first_failure = f"shard {obj.get('shard')} seq {obj.get('seq')}: {exc}"
            return False

    def report(self, warn: Callable[[str], None]) -> None:
        """One warning for every record the expression failed on (left out, not printed)."""
        if self.failed:
            records = "record" if self.failed == 1 else "records"
            warn(
                f"--where failed on {self.failed} {records}, left out "
                f"(first: {_single_line(self.first_failure or '')})"
            )


def _single_line(text: str) -> str:
    return " ".join(text.split())
