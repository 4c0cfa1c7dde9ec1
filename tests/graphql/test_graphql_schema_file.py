"""schema.graphql at the repository root is the schema the code serves."""

from __future__ import annotations

from graphql_api.export_schema import SCHEMA_FILE, schema_sdl


def test_schema_file_matches_the_code() -> None:
    assert SCHEMA_FILE.exists(), "schema.graphql is missing: run python -m graphql_api.export_schema"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "schema.graphql differs from the code: run `python -m graphql_api.export_schema` and "
        "commit the result")


def test_private_columns_are_not_in_the_schema() -> None:
    sdl = schema_sdl()
    for name in ("passwordHash", "tokenHash", "sessionVersion", "prevHash", "nameNormalized",
                 "failedLogins", "lockedUntil", "sha256"):
        assert name not in sdl, name


def test_examples_in_the_docs_are_valid() -> None:
    import re

    from graphql import parse, validate

    from graphql_api.export_schema import SCHEMA_FILE as schema_file
    from graphql_api.schema import schema

    doc = (schema_file.parent / "docs" / "graphql.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```graphql\n(.*?)```", doc, re.S)
    assert len(blocks) >= 6
    for block in blocks:
        errors = validate(schema._schema, parse(block))
        assert not errors, (block, errors)
