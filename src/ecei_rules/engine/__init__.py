"""The engine: compile a ruleset into a plan and evaluate assessments into decisions."""
