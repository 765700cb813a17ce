"""The rule engine: conditions compiled to SQL and run on claim lines (DuckDB embedded)."""
