"""The ground floor: three-valued logic, exact numbers and dates, canonical JSON, safe YAML, files,
terminal text and workers. Imports nothing else of the package but errors."""
