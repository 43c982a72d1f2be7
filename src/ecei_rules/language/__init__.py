"""The condition language: parse, type-check, compile, cost and analyse an expression."""
