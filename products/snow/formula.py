"""FSC formulas written as text, e.g. ``"0.5*tanh(2.65*ndsi-1.42)+0.5"``.

LIS lets the FSC equation be configured as an expression of ``ndsi`` (key ``fscToc_Eq``). The text is
parsed into a small arithmetic tree and evaluated with numpy functions, never with ``eval``, so a
configuration file can only express arithmetic.
"""

import ast
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from products.errors import BadInputError

VARIABLE = "ndsi"

_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
}
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def compile_fsc_formula(text: str) -> Callable[[Any], Any]:
    """Turn an FSC expression of ``ndsi`` into a function of an NDSI array; BadInputError if not allowed."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise BadInputError(f"FSC formula {text!r} is not a valid expression: {error.msg}") from None
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    if VARIABLE not in names:
        raise BadInputError(f"FSC formula {text!r} must use the variable {VARIABLE!r}")
    _check(tree.body, text)
    return lambda ndsi: _evaluate(tree.body, ndsi)


def _check(node: ast.AST, text: str) -> None:
    match node:
        case ast.Constant(value=value) if isinstance(value, int | float) and not isinstance(value, bool):
            return
        case ast.Name(id=name) if name == VARIABLE:
            return
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            _check(left, text)
            _check(right, text)
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            _check(operand, text)
        case ast.Call(func=ast.Name(id=name), args=[argument], keywords=[]) if name in _FUNCTIONS:
            _check(argument, text)
        case _:
            allowed = ", ".join(sorted(_FUNCTIONS))
            raise BadInputError(
                f"FSC formula {text!r}: {ast.unparse(node)!r} is not allowed; use numbers, {VARIABLE!r}, "
                f"+ - * / ** and the functions {allowed}"
            )


def _evaluate(node: ast.AST, ndsi: Any) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name():
            return ndsi
        case ast.BinOp(left=left, op=op, right=right):
            return _BINARY[type(op)](_evaluate(left, ndsi), _evaluate(right, ndsi))
        case ast.UnaryOp(op=op, operand=operand):
            return _UNARY[type(op)](_evaluate(operand, ndsi))
        case ast.Call(func=ast.Name(id=name), args=[argument]):
            return _FUNCTIONS[name](_evaluate(argument, ndsi))
    raise AssertionError(f"unchecked node {ast.dump(node)}")
