"""Every audit action and kind of thing the code writes is registered and has a Danish label.

The call sites are read from the source: each record_change(action=…, entity_type=…) is followed
back through constants, f-strings, conditionals and the small _audit helpers that pass them on.
The retention runner writes the entry that each PurgeStep(action=…, entity_type=…) declares, so
those declarations are its call sites.
"""

import ast
from pathlib import Path

import pytest

import hotline
from hotline.audit.actions import AuditAction, AuditSubject, action_label, subject_label
from hotline.audit.service import record_change
from hotline.i18n import catalogue

SOURCE = Path(hotline.__file__).parent
RETENTION_RUNNER = SOURCE / "privacy" / "retention.py"
WRITERS = ("record_change", "PurgeStep")


class Unresolved(Exception):
    """A value the reader cannot follow back to string constants."""


class Module:
    """One source file: its functions, module constants and parents of nodes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents = {c: p for p in ast.walk(self.tree) for c in ast.iter_child_nodes(p)}
        self.functions = {
            n.name: n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef)
        }  # fmt: skip
        self.constants = {
            n.targets[0].id: n.value.value
            for n in self.tree.body
            if isinstance(n, ast.Assign)
            and isinstance(n.targets[0], ast.Name)
            and isinstance(n.value, ast.Constant)
        }

    def enclosing(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def values(self, expr: ast.expr, where: ast.AST) -> set[str]:
        """The strings an expression can be, where it stands."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.values(expr.body, where) | self.values(expr.orelse, where)
        if isinstance(expr, ast.JoinedStr):
            found = {""}
            for part in expr.values:
                inner = part.value if isinstance(part, ast.FormattedValue) else part
                found = {a + b for a in found for b in self.values(inner, where)}
            return found
        if isinstance(expr, ast.Name):
            function = self.enclosing(where)
            if function is not None and expr.id in _parameters(function):
                return self.arguments(function, expr.id)
            if expr.id in self.constants:
                return {self.constants[expr.id]}
        raise Unresolved(f"{self.path}:{expr.lineno}: {ast.unparse(expr)}")

    def arguments(self, function: ast.FunctionDef, name: str) -> set[str]:
        """What the module's calls of a helper pass as one of its parameters."""
        index = _parameters(function).index(name)
        found: set[str] = set()
        calls = [
            n for n in ast.walk(self.tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id == function.name
        ]  # fmt: skip
        if not calls:
            raise Unresolved(f"{self.path}: {function.name} is never called here")
        for call in calls:
            given = {k.arg: k.value for k in call.keywords}
            expr = given.get(name, call.args[index] if index < len(call.args) else None)
            if expr is None:
                raise Unresolved(f"{self.path}:{call.lineno}: no {name} in the call")
            found |= self.values(expr, call)
        return found


def _parameters(function: ast.FunctionDef) -> list[str]:
    arguments = function.args
    return [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]


def emitted() -> tuple[set[str], set[str], int]:
    """The actions and kinds of things the code can write, and how many call sites write them."""
    actions: set[str] = set()
    subjects: set[str] = set()
    sites = 0
    for path in sorted(SOURCE.rglob("*.py")):
        if path.parent.name == "audit":
            continue  # the log itself, not a writer
        module = Module(path)
        for node in ast.walk(module.tree):
            writer = getattr(node.func, "id", "") if isinstance(node, ast.Call) else ""
            if writer not in WRITERS or (writer == "record_change" and path == RETENTION_RUNNER):
                continue
            given = {k.arg: k.value for k in node.keywords}
            actions |= module.values(given["action"], node)
            subjects |= module.values(given["entity_type"], node)
            sites += 1
    return actions, subjects, sites


def test_every_action_the_code_writes_is_registered_and_every_registered_one_is_written():
    actions, subjects, sites = emitted()
    assert sites >= 25  # the reader found the call sites
    assert actions == {a.value for a in AuditAction}
    assert subjects == {s.value for s in AuditSubject}


def test_every_action_and_kind_of_thing_has_a_danish_label():
    texts = catalogue()
    for action in AuditAction:
        assert f"audit.actions.{action}" in texts, action
        assert action_label(action) != action.value
    for subject in AuditSubject:
        assert f"audit.subjects.{subject}" in texts, subject
    labels = [action_label(a) for a in AuditAction]
    assert len(set(labels)) == len(labels)  # two actions never read the same
    assert subject_label("rule") == "Regel"
    assert action_label("rule.forged") == "rule.forged"  # an old or unknown code shows as it is


def test_an_unregistered_action_is_refused(session):
    with pytest.raises(ValueError, match="not listed"):
        record_change(
            session=session, actor=None, action="rule.forged", entity_type="rule", entity_id="x"
        )
    with pytest.raises(ValueError, match="not listed"):
        record_change(
            session=session, actor=None, action="rule.save", entity_type="thing", entity_id="x"
        )
