"""Message catalogs (see catalogs.py)."""
