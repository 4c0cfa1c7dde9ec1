"""GraphQL object types, one module per area, each with an explicit field list."""
