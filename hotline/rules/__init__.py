"""The layered national/local knowledge store."""
