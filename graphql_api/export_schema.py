"""Write the schema to schema.graphql at the repository root:

    python -m graphql_api.export_schema

tests/graphql/test_schema_file.py fails when the code and the file differ.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def schema_sdl() -> str:
    from graphql_api.schema import schema

    return str(schema).rstrip() + "\n"


def main() -> None:
    SCHEMA_FILE.write_text(schema_sdl(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()
