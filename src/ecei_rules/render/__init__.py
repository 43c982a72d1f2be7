"""How results look to people: terminal tables, Markdown, the docs pages."""
