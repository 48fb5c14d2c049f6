"""The GraphQL documents the Shopify channel sends, and what each will cost.

Every field used here exists in the Admin schema of 2022-07 and in current
versions (``...Set`` money bags, never the deprecated bare ``Money`` fields);
``tests/plugins/shopify/test_queries.py`` validates each document against the
full 2022-07 schema.

Shopify charges a query its *requested* cost before running it (and refunds
the difference to the actual cost afterwards). :func:`requested_cost` computes
that cost the documented way: scalars and enums 0, objects 1, a connection
2 + ``first`` x the cost of one node, a list with ``first`` that many objects,
``pageInfo`` free, a mutation 10. Page sizes are chosen with :func:`fit_first`
so a query never asks for more than the bucket or the single-query cap allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from graphql import parse
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

MAX_QUERY_COST = 1000
"""Shopify refuses a single query whose requested cost is above this."""
MAX_PAGE = 250
LINES_PER_ORDER = 5
REFUNDS_PER_ORDER = 3
FULFILLMENTS_PER_ORDER = 2
TRANSACTIONS_PER_ORDER = 4
REFUND_LINES_PER_REFUND = 10
OVERFLOW_PAGE = 100
"""Nested sizes: small in page queries (they multiply the cost of every
order); follow-up queries fetch whatever overflows them."""

MONEY = "shopMoney { amount currencyCode }"
LINE_FIELDS = f"""id title sku quantity currentQuantity
      variant {{ id sku }} product {{ id }}
      originalUnitPriceSet {{ {MONEY} }}"""
REFUND_FIELDS = f"id createdAt note totalRefundedSet {{ {MONEY} }}"
FULFILLMENT_FIELDS = "id createdAt status"
REFUND_LINE_FIELDS = f"""quantity restockType lineItem {{ id }}
      subtotalSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }}"""
FEE_FIELDS = """id kind status processedAt createdAt
      fees { id type rate rateName flatFeeName amount { amount currencyCode }
        taxAmount { amount currencyCode } }"""
PAGE_INFO = "pageInfo { hasNextPage endCursor }"
SCOPES = "currentAppInstallation { accessScopes { handle } }"


def _arg(n: int | None) -> str:
    return f"(first: {n})" if n is not None else ""


def order_fields(paged: bool = True) -> str:
    """The fields read for one order; ``paged=False`` gives the bulk form
    (no ``first`` arguments, no ``pageInfo``)."""
    lines = f"lineItems{_arg(LINES_PER_ORDER if paged else None)} {{ edges {{ node {{ {LINE_FIELDS} }} }}"
    lines += f" {PAGE_INFO} }}" if paged else " }"
    return f"""id name createdAt updatedAt processedAt cancelledAt cancelReason
    displayFinancialStatus displayFulfillmentStatus
    currentSubtotalPriceSet {{ {MONEY} }}
    currentTotalDiscountsSet {{ {MONEY} }}
    totalShippingPriceSet {{ {MONEY} }}
    currentTotalTaxSet {{ {MONEY} }}
    currentTotalPriceSet {{ {MONEY} }}
    {lines}
    refunds{_arg(REFUNDS_PER_ORDER if paged else None)} {{ {REFUND_FIELDS} }}
    fulfillments{_arg(FULFILLMENTS_PER_ORDER if paged else None)} {{ {FULFILLMENT_FIELDS} }}"""


SHOP_QUERY = f"""query MakersyncShop {{
  shop {{ id name currencyCode ianaTimezone myshopifyDomain }}
  {SCOPES}
}}"""


def orders_query(first: int) -> str:
    return f"""query MakersyncOrders($after: String, $query: String!, $sortKey: OrderSortKeys!) {{
  {SCOPES}
  orders(first: {first}, after: $after, query: $query, sortKey: $sortKey) {{
    edges {{ node {{ {order_fields()} }} }}
    {PAGE_INFO}
  }}
}}"""


def bulk_orders_query(search: str) -> str:
    """The inner query of a bulk operation: every order of ``search``."""
    return f"""{{
  orders(query: {_quote(search)}, sortKey: CREATED_AT) {{
    edges {{ node {{ {order_fields(paged=False)} }} }}
  }}
}}"""


def order_lines_query(first: int) -> str:
    return f"""query MakersyncOrderLines($id: ID!, $after: String) {{
  node(id: $id) {{ ... on Order {{ id lineItems(first: {first}, after: $after) {{
    edges {{ node {{ {LINE_FIELDS} }} }} {PAGE_INFO} }} }} }}
}}"""


def order_list_query(field: str, first: int) -> str:
    """Refetch one overflowing list of an order (refunds, fulfillments, transactions)."""
    fields = {"refunds": REFUND_FIELDS, "fulfillments": FULFILLMENT_FIELDS,
              "transactions": FEE_FIELDS}[field]
    return f"""query MakersyncOrderList($id: ID!) {{
  node(id: $id) {{ ... on Order {{ id {field}(first: {first}) {{ {fields} }} }} }}
}}"""


def refund_lines_query(first: int) -> str:
    """The line items of many refunds at once (``nodes``), one batch a request."""
    return f"""query MakersyncRefundLines($ids: [ID!]!) {{
  nodes(ids: $ids) {{ ... on Refund {{ id refundLineItems(first: {first}) {{
    edges {{ node {{ {REFUND_LINE_FIELDS} }} }} {PAGE_INFO} }} }} }}
}}"""


def refund_lines_page_query(first: int) -> str:
    return f"""query MakersyncRefundLinesPage($id: ID!, $after: String) {{
  node(id: $id) {{ ... on Refund {{ id refundLineItems(first: {first}, after: $after) {{
    edges {{ node {{ {REFUND_LINE_FIELDS} }} }} {PAGE_INFO} }} }} }}
}}"""


def variants_query(first: int) -> str:
    return f"""query MakersyncVariants($after: String) {{
  shop {{ currencyCode }}
  productVariants(first: {first}, after: $after, sortKey: ID) {{
    edges {{ node {{ id sku title price updatedAt selectedOptions {{ name value }}
      product {{ id title status updatedAt }} }} }}
    {PAGE_INFO}
  }}
}}"""


def fees_query(first: int) -> str:
    return f"""query MakersyncFees($after: String, $query: String!) {{
  orders(first: {first}, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{ node {{ id createdAt transactions(first: {TRANSACTIONS_PER_ORDER}) {{ {FEE_FIELDS} }} }} }}
    {PAGE_INFO}
  }}
}}"""


BULK_RUN = """mutation MakersyncBulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}"""
BULK_STATUS = """query MakersyncBulkStatus($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount url } }
}"""
BULK_CURRENT = """query MakersyncBulkCurrent {
  currentBulkOperation(type: QUERY) { id status query }
}"""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- requested cost -------------------------------------------------------


@lru_cache(maxsize=256)
def _parsed(query: str) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    doc = parse(query)
    frags = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
    return op, frags


def requested_cost(query: str, variables: Mapping[str, Any] | None = None) -> int:
    """The cost Shopify will ask of ``query`` before running it."""
    op, frags = _parsed(query)
    if op.operation == OperationType.MUTATION:
        return 10
    return _selection_cost(op.selection_set, frags, variables or {})


def _arg_value(field: FieldNode, name: str, variables: Mapping[str, Any]) -> Any:
    for arg in field.arguments or ():
        if arg.name.value == name:
            node = arg.value
            if isinstance(node, VariableNode):
                return variables.get(node.name.value)
            if isinstance(node, ListValueNode):
                return list(node.values)
            return int(node.value) if hasattr(node, "value") and str(node.value).isdigit() else None
    return None


def _selection_cost(sel: SelectionSetNode | None, frags: Mapping[str, FragmentDefinitionNode],
                    variables: Mapping[str, Any]) -> int:
    if sel is None:
        return 0
    total, fragment_costs = 0, [0]
    for node in sel.selections:
        if isinstance(node, FieldNode):
            total += _field_cost(node, frags, variables)
        elif isinstance(node, InlineFragmentNode):
            fragment_costs.append(_selection_cost(node.selection_set, frags, variables))
        elif isinstance(node, FragmentSpreadNode):
            fragment_costs.append(_selection_cost(frags[node.name.value].selection_set, frags, variables))
    return total + max(fragment_costs)


def _field_cost(field: FieldNode, frags: Mapping[str, FragmentDefinitionNode],
                variables: Mapping[str, Any]) -> int:
    if field.selection_set is None or field.name.value == "pageInfo":
        return 0
    size = _arg_value(field, "first", variables) or _arg_value(field, "last", variables)
    children = {f.name.value: f for f in field.selection_set.selections if isinstance(f, FieldNode)}
    if size is not None and ("edges" in children or "nodes" in children):
        node_cost = 0
        if "edges" in children:
            edge_sel = children["edges"].selection_set
            for f in edge_sel.selections if edge_sel else ():
                if isinstance(f, FieldNode) and f.name.value == "node":
                    node_cost = max(node_cost, 1 + _selection_cost(f.selection_set, frags, variables))
        if "nodes" in children:
            node_cost = max(node_cost, 1 + _selection_cost(children["nodes"].selection_set, frags, variables))
        return 2 + int(size) * node_cost
    each = 1 + _selection_cost(field.selection_set, frags, variables)
    if size is not None:
        return int(size) * each
    ids = _arg_value(field, "ids", variables)
    if isinstance(ids, list):
        return len(ids) * each
    return each


def fit_first(build: Callable[[int], str], budget: float,
              variables: Mapping[str, Any] | None = None, ceiling: int = MAX_PAGE) -> int:
    """The largest ``first`` (<= ``ceiling``) whose query ``build(first)`` costs at most ``budget``."""
    one = requested_cost(build(1), variables)
    per = requested_cost(build(2), variables) - one
    base = one - per
    if per <= 0:
        return ceiling
    return int(max(1, min(ceiling, (budget - base) // per)))
