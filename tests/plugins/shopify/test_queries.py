"""Every GraphQL document the channel can send is valid against the FULL real
2022-07 Admin schema, and its requested cost is computed as the simulator
(and Shopify) computes it."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, get_operation_ast, parse, validate

from makersync.plugins.shopify import queries, simcost

SEARCH = "created_at:>='2026-05-01T00:00:00Z' created_at:<'2026-06-01T00:00:00Z'"
DOCUMENTS = {
    "shop": (queries.SHOP_QUERY, {}),
    "orders": (queries.orders_query(19), {"after": None, "query": SEARCH, "sortKey": "CREATED_AT"}),
    "bulk inner": (queries.bulk_orders_query(SEARCH), {}),
    "order lines": (queries.order_lines_query(100), {"id": "gid://shopify/Order/1", "after": "x"}),
    "refunds": (queries.order_list_query("refunds", 100), {"id": "gid://shopify/Order/1"}),
    "fulfillments": (queries.order_list_query("fulfillments", 100), {"id": "gid://shopify/Order/1"}),
    "transactions": (queries.order_list_query("transactions", 100), {"id": "gid://shopify/Order/1"}),
    "refund lines": (queries.refund_lines_query(10), {"ids": ["gid://shopify/Refund/1"] * 3}),
    "refund lines page": (queries.refund_lines_page_query(100), {"id": "gid://shopify/Refund/1", "after": "x"}),
    "variants": (queries.variants_query(250), {"after": None}),
    "fees": (queries.fees_query(40), {"after": None, "query": SEARCH}),
    "bulk run": (queries.BULK_RUN, {"query": "{ shop { id } }"}),
    "bulk status": (queries.BULK_STATUS, {"id": "gid://shopify/BulkOperation/1"}),
    "bulk current": (queries.BULK_CURRENT, {}),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_valid_against_full_2022_07_schema(name: str, full_schema: GraphQLSchema) -> None:
    query, _ = DOCUMENTS[name]
    errors = validate(full_schema, parse(query))
    assert not errors, f"{name}: {[e.message for e in errors]}"


@pytest.mark.parametrize("name", sorted(set(DOCUMENTS) - {"bulk inner"}))  # bulk runs uncharged
def test_requested_cost_equals_simulator_cost(name: str) -> None:
    """The channel sizes pages with the cost the simulator charges (schema-based)."""
    query, variables = DOCUMENTS[name]
    doc = parse(query)
    assert queries.requested_cost(query, variables) == simcost.query_cost(doc, get_operation_ast(doc), variables)


def test_fit_first_stays_under_the_single_query_cap() -> None:
    for build in (queries.orders_query, queries.fees_query, queries.variants_query):
        first = queries.fit_first(build, queries.MAX_QUERY_COST)
        assert queries.requested_cost(build(first)) <= queries.MAX_QUERY_COST < queries.requested_cost(
            build(first + 1)) or first == queries.MAX_PAGE


def test_fit_first_shrinks_pages_for_a_smaller_bucket() -> None:
    assert queries.fit_first(queries.orders_query, 500) < queries.fit_first(queries.orders_query, 1000)
    assert queries.requested_cost(queries.orders_query(queries.fit_first(queries.orders_query, 500))) <= 500


def test_no_deprecated_fields_in_any_document(full_schema: GraphQLSchema) -> None:
    """Only `...Set` MoneyBag fields and current names: nothing deprecated in 2022-07."""
    from graphql import TypeInfo, visit
    from graphql.language import Visitor

    used: list[str] = []

    class Deprecations(Visitor):
        def __init__(self, info: TypeInfo) -> None:
            super().__init__()
            self.info = info

        def enter_field(self, node, *_args):  # type: ignore[no-untyped-def]
            field = self.info.get_field_def()
            if field is not None and field.deprecation_reason:
                used.append(f"{self.info.get_parent_type()}.{node.name.value}")

    from graphql.utilities import TypeInfoVisitor
    for query, _ in DOCUMENTS.values():
        info = TypeInfo(full_schema)
        visit(parse(query), TypeInfoVisitor(info, Deprecations(info)))
    assert not used, f"deprecated fields used: {used}"
