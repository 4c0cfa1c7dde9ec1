"""Business rules of domain.md, one module per area: plain functions over the session, called by
both front doors. No Flask imports here."""
