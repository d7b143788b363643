"""The versioned agreement-file spec (slamon/v1) and its loader.

``loader`` runs the steps; each has its own module: ``yamlguard`` (limits and
refused YAML features, checked on the parser's events before anything is built),
``yamldoc`` (parse, keeping the line of every key and item), ``v1`` (the spec
models; field checks), ``units`` (the duration, target, percent and opening-hours
languages), ``references`` (checks across the file), ``problems`` (pydantic errors
→ ``file:line: field: message``) and ``build`` (defaults, then the domain objects).
The format is documented in docs/agreements.md.
"""
