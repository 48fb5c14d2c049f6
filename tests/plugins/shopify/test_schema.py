"""The simulator's schema is a faithful subset of Shopify's real 2022-07 Admin schema."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from makersync.plugins.shopify import simgraph


def test_subset_sdl_types_fields_and_args_match_the_real_schema(full_schema: GraphQLSchema) -> None:
    """Every type, field and argument of the trimmed SDL exists in the real schema
    with the same type; every enum value is a real one."""
    subset = simgraph.schema()
    checked = 0
    for name, kind in subset.type_map.items():
        if name.startswith("__"):
            continue
        real = full_schema.type_map.get(name)
        assert real is not None, f"type {name} is not in the real schema"
        assert type(real) is type(kind), f"{name}: {type(kind).__name__} vs real {type(real).__name__}"
        if isinstance(kind, GraphQLEnumType):
            assert set(kind.values) <= set(real.values), f"{name}: values not in the real enum"
        if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for fname, f in kind.fields.items():
                rf = real.fields.get(fname)  # type: ignore[union-attr]
                assert rf is not None, f"{name}.{fname} is not in the real schema"
                assert str(rf.type) == str(f.type), f"{name}.{fname}: {f.type} vs real {rf.type}"
                assert rf.deprecation_reason is None, f"{name}.{fname} is deprecated in 2022-07"
                for aname, arg in getattr(f, "args", {}).items():
                    assert aname in rf.args, f"{name}.{fname}({aname}) is not in the real schema"
                    assert str(rf.args[aname].type) == str(arg.type), f"{name}.{fname}({aname}) type"
                checked += 1
        if isinstance(kind, GraphQLObjectType):
            real_ifaces = {i.name for i in real.interfaces}  # type: ignore[union-attr]
            assert {i.name for i in kind.interfaces} <= real_ifaces, f"{name}: interfaces"
    assert checked > 100


def test_subset_keeps_real_root_operation_types(full_schema: GraphQLSchema) -> None:
    assert simgraph.schema().query_type.name == full_schema.query_type.name == "QueryRoot"
    assert simgraph.schema().mutation_type.name == full_schema.mutation_type.name == "Mutation"
