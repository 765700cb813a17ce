"""The JSON Schemas shipped with twoku and their compiled checks (schemacode/: made by scripts/gen_schemas.py)."""
