"""Storage: the SQL database behind atm (SQLite by default), its schema and repositories."""
