"""Report figures as formulas written in the policy file, e.g. ``1 - sum(abs(forecast - demand)) / sum(demand)``.

Why formulas as text: companies define accuracy and fulfilment differently, and the report page must state
the definition it used. The text is parsed with :mod:`ast` and only a tiny language is accepted: column names,
numbers, ``+ - * /``, ``abs``, ``min``/``max`` (element-wise, two arguments) and ``sum`` (per group). Column
names are allowed only inside ``sum(...)`` so that every figure is a ratio of group totals. Plain Python and
pandas, no Django.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ("forecast", "cm", "self", "model", "balanced", "demand", "supplied", "sold", "stock")


class FormulaError(ValueError):
    """The formula uses something outside the small language; the message says what."""


def check(formula: str) -> ast.Expression:
    """Parse and validate ``formula``; raises :class:`FormulaError` naming the offending part."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"公式语法错误 / syntax error in formula: {formula!r}") from exc

    def walk(node: ast.AST, inside_sum: bool) -> None:
        if isinstance(node, ast.Expression):
            walk(node.body, inside_sum)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            walk(node.left, inside_sum)
            walk(node.right, inside_sum)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            walk(node.operand, inside_sum)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return
        elif isinstance(node, ast.Name):
            if node.id not in COLUMNS:
                raise FormulaError(f"未知的列 / unknown column '{node.id}' (allowed: {', '.join(COLUMNS)})")
            if not inside_sum:
                raise FormulaError(f"列 '{node.id}' 必须写在 sum(...) 中 / column '{node.id}' must be inside sum()")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            name, args = node.func.id, node.args
            if name == "sum" and len(args) == 1 and not inside_sum:
                walk(args[0], True)
            elif name == "abs" and len(args) == 1:
                walk(args[0], inside_sum)
            elif name in ("min", "max") and len(args) == 2:
                for a in args:
                    walk(a, inside_sum)
            else:
                raise FormulaError(f"不支持的函数 / unsupported function call: {ast.unparse(node)}")
        else:
            raise FormulaError(f"不支持的写法 / unsupported expression: {ast.unparse(node)}")

    walk(tree, False)
    return tree


def sum_terms(formula: str) -> list[str]:
    """The expressions that ``formula`` sums, as text (``ast.unparse``), each once."""
    out: list[str] = []
    for node in ast.walk(check(formula)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
            text = ast.unparse(node.args[0])
            if text not in out:
                out.append(text)
    return out


class _NotExact(Exception):
    pass


def to_sql(term: str, columns: dict[str, str], least: str = "MIN", greatest: str = "MAX") -> str | None:
    """A summed expression (one of :func:`sum_terms`) as SQL over ``columns`` (column name -> SQL), or None
    where the database would not give exactly the figure pandas gives: a division (SQL divides integers, and
    by zero differently) or a constant that is not a (small) integer. Integer sums are exact in both (below
    2**53), so a figure made of translated terms is bit-identical to the one :func:`evaluate` computes from
    the rows.
    ``least``/``greatest``: the database's two-argument minimum and maximum (SQLite ``MIN``/``MAX``).
    """

    def tr(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return columns[node.id]
        if isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) < 2**31:
            return str(node.value)
        if isinstance(node, ast.UnaryOp):
            return f"(-{tr(node.operand)})" if isinstance(node.op, ast.USub) else tr(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
            op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}[type(node.op)]
            return f"({tr(node.left)} {op} {tr(node.right)})"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("abs", "min", "max"):
            function = {"abs": "ABS", "min": least, "max": greatest}[node.func.id]
            return f"{function}({', '.join(tr(a) for a in node.args)})"
        raise _NotExact

    try:
        return tr(ast.parse(term, mode="eval").body)
    except _NotExact:
        return None


def evaluate(formula: str, frame: pd.DataFrame, by: list[str], summed: bool = False) -> pd.Series:
    """The figure per group of ``by`` (a one-row Series indexed ``"all"`` when ``by`` is empty).

    ``summed``: ``frame`` holds, instead of rows, partial sums of the formula's :func:`sum_terms` (one column
    named by each term's text) for finer groups; ``sum(x)`` then adds up the partial sums of ``x``.
    A group whose denominator is zero gets NaN (shown as "—"), never an error.
    """
    tree = check(formula)
    if by:
        keys = [frame[k] for k in by]
    else:
        keys = [pd.Series(["all"] * len(frame), index=frame.index)]

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return frame[node.id].to_numpy(dtype=float)
        if isinstance(node, ast.UnaryOp):
            value = ev(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            with np.errstate(divide="ignore", invalid="ignore"):
                out = a / b
            return out.replace([np.inf, -np.inf], np.nan) if isinstance(out, pd.Series) else out
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        name = node.func.id
        if name == "sum" and summed:
            return frame[ast.unparse(node.args[0])].astype(float).groupby(keys, sort=True).sum()
        if name == "sum":
            values = pd.Series(np.broadcast_to(ev(node.args[0]), len(frame)), index=frame.index)
            return values.groupby(keys, sort=True).sum()
        if name == "abs":
            return abs(ev(node.args[0]))
        a, b = (ev(x) for x in node.args)
        return np.minimum(a, b) if name == "min" else np.maximum(a, b)

    result = ev(tree)
    if not isinstance(result, pd.Series):  # a formula without sum(): the same constant for every group
        index = pd.Series(1, index=frame.index).groupby(keys, sort=True).sum().index
        result = pd.Series(result, index=index)
    return result.astype(float)
