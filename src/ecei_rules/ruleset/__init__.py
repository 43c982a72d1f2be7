"""The authoring side: the ruleset document model, the condition language and the loader."""
