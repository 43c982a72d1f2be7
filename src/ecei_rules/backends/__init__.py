"""Other engines that decide the same rulesets, to cross-check the core engine.

:mod:`ecei_rules.backends.durable` decides with durable-rules (the optional extra
``ecei-rules[durable]``); importing it never imports durable-rules, which is loaded on first use.
"""
