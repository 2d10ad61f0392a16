"""Suite files: the schema, the hardened YAML reader, and expansion into cases (torch-free)."""
