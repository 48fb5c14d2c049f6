"""Shopify's calculated query cost, bulk-query limits and bulk JSONL, for
the simulator.

Cost, the documented way, from the schema: scalars and enums 0, objects 1,
connections 2 + first x one node, lists of objects ``first`` (or one) x the
object, ``pageInfo`` free, mutations 10; the actual cost walks the result
instead, counting the nodes returned.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from .simgraph import MAX_PAGE, QueryRefused, schema

MUTATION_COST = 10


# --- calculated query cost ------------------------------------------------------

_MISSING = object()


def query_cost(doc: DocumentNode, op: OperationDefinitionNode, variables: dict[str, Any],
               data: Any = _MISSING) -> int:
    """Requested cost (``data`` missing) or actual cost (over the result ``data``)."""
    if op.operation == OperationType.MUTATION:
        return MUTATION_COST
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    coerced = get_variable_values(schema(), op.variable_definitions or (), dict(variables))
    if isinstance(coerced, list):
        raise QueryRefused("BAD_REQUEST", "; ".join(e.message for e in coerced))
    walker = _CostWalker(schema(), frags, coerced, data is not _MISSING)
    return walker.selection(schema().query_type, op.selection_set, None if data is _MISSING else data)


class _CostWalker:
    def __init__(self, sdl: GraphQLSchema, frags: dict[str, FragmentDefinitionNode],
                 variables: Any, actual: bool) -> None:
        self.sdl, self.frags, self.variables, self.actual = sdl, frags, variables, actual

    def selection(self, parent: Any, sel: SelectionSetNode | None, data: Any) -> int:
        if sel is None:
            return 0
        total, fragments = 0, [0]
        for node in sel.selections:
            if isinstance(node, FieldNode):
                if node.name.value.startswith("__"):
                    continue
                key = node.alias.value if node.alias else node.name.value
                value = data.get(key) if isinstance(data, dict) else None
                total += self.field(parent.fields[node.name.value], node, value)
            elif isinstance(node, InlineFragmentNode):
                kind = self.sdl.type_map[node.type_condition.name.value] if node.type_condition else parent
                fragments.append(self.selection(kind, node.selection_set, data))
            elif isinstance(node, FragmentSpreadNode):
                frag = self.frags[node.name.value]
                fragments.append(self.selection(self.sdl.type_map[frag.type_condition.name.value],
                                                frag.selection_set, data))
        return total + (sum(fragments) if self.actual else max(fragments))

    def field(self, fdef: Any, node: FieldNode, value: Any) -> int:
        named = get_named_type(fdef.type)
        if is_leaf_type(named) or named.name == "PageInfo":
            return 0
        args = get_argument_values(fdef, node, self.variables)
        if named.name.endswith("Connection"):
            return self._connection(named, node, args, value)
        if is_list_type(get_nullable_type(fdef.type)):
            if self.actual:
                return sum(1 + self.selection(named, node.selection_set, v) for v in value or () if v is not None)
            size = args.get("first") or (len(args["ids"]) if "ids" in args else 1)
            return size * (1 + self.selection(named, node.selection_set, None))
        if self.actual and value is None:
            return 0
        return 1 + self.selection(named, node.selection_set, value)

    def _connection(self, conn: GraphQLObjectType, node: FieldNode, args: dict[str, Any], value: Any) -> int:
        size = args.get("first") if args.get("first") is not None else args.get("last")
        if not self.actual:
            if size is None:
                raise QueryRefused("BAD_REQUEST", f"you must provide one of first or last on {node.name.value}")
            if size > MAX_PAGE:
                raise QueryRefused("BAD_REQUEST", f"{node.name.value}: first/last cannot exceed {MAX_PAGE}")
        node_type = get_named_type(conn.fields["nodes"].type)
        per_node: list[tuple[str, SelectionSetNode | None]] = []
        for sub in node.selection_set.selections if node.selection_set else ():
            if isinstance(sub, FieldNode) and sub.name.value == "nodes":
                per_node.append(("nodes", sub.selection_set))
            elif isinstance(sub, FieldNode) and sub.name.value == "edges" and sub.selection_set:
                for inner in sub.selection_set.selections:
                    if isinstance(inner, FieldNode) and inner.name.value == "node":
                        per_node.append(("edges", inner.selection_set))
        if not self.actual:
            one = max((1 + self.selection(node_type, s, None) for _k, s in per_node), default=0)
            return 2 + int(size or 0) * one
        if value is None:
            return 0
        count = len(value.get("edges") or value.get("nodes") or ())
        total = 2
        for i in range(count):
            costs = [1 + self.selection(node_type, s, (value[k][i]["node"] if k == "edges" else value[k][i]))
                     for k, s in per_node if value.get(k)]
            total += max(costs, default=0)
        return total


# --- bulk operations --------------------------------------------------------

BULK_CONNECTIONS_MAX = 5
BULK_DEPTH_MAX = 2


def bulk_problems(doc: DocumentNode) -> list[str]:
    """Shopify's limits on a bulk query: at most five connections, nested at
    most two deep, and no connection inside a list field."""
    problems: list[str] = []
    counts = {"connections": 0}

    def walk(parent: Any, sel: SelectionSetNode | None, depth: int, in_list: bool) -> None:
        for node in sel.selections if sel else ():
            if isinstance(node, InlineFragmentNode):
                walk(schema().type_map[node.type_condition.name.value] if node.type_condition else parent,
                     node.selection_set, depth, in_list)
                continue
            if not isinstance(node, FieldNode) or node.name.value.startswith("__"):
                continue
            fdef = parent.fields[node.name.value]
            named = get_named_type(fdef.type)
            if named.name.endswith("Connection"):
                counts["connections"] += 1
                if in_list:
                    problems.append("Queries that contain a connection field within a list field are not "
                                    "currently supported.")
                if depth + 1 > BULK_DEPTH_MAX:
                    problems.append(f"Bulk queries cannot contain connections with a nesting depth greater "
                                    f"than {BULK_DEPTH_MAX}.")
                walk(named, node.selection_set, depth + 1, in_list)
            elif not is_leaf_type(named):
                # a connection's own edges/nodes lists do not count as list fields
                listed = is_list_type(get_nullable_type(fdef.type)) and not parent.name.endswith("Connection")
                walk(named, node.selection_set, depth, in_list or listed)

    for definition in doc.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if definition.operation != OperationType.QUERY:
                problems.append("Bulk queries must be queries.")
            walk(schema().query_type, definition.selection_set, 0, False)
    if counts["connections"] > BULK_CONNECTIONS_MAX:
        problems.append(f"Bulk queries cannot contain more than {BULK_CONNECTIONS_MAX} connections.")
    return sorted(set(problems))


def flatten_jsonl(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A bulk result as JSONL objects: each node of a connection its own line,
    nested connections' nodes after it with ``__parentId``; lists inline."""
    lines: list[dict[str, Any]] = []

    def items(conn: dict[str, Any]) -> list[dict[str, Any]]:
        if conn.get("edges") is not None:
            return [e["node"] for e in conn["edges"]]
        return list(conn.get("nodes") or ())

    def emit(node: dict[str, Any], parent: str | None) -> None:
        own, nested = {}, []
        for key, value in node.items():
            if isinstance(value, dict) and ("edges" in value or "nodes" in value):
                nested.append(value)
            else:
                own[key] = value
        if parent is not None:
            own["__parentId"] = parent
        lines.append(own)
        for conn in nested:
            for child in items(conn):
                emit(child, node.get("id"))

    for value in data.values():
        if isinstance(value, dict) and ("edges" in value or "nodes" in value):
            for node in items(value):
                emit(node, None)
    return lines
