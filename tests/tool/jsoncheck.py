#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""jsoncheck.py DOC NAME FILE - check the JSON output in FILE against the
schema NAME of DOC (docs/json.md: a ```json schema=NAME block, in the
notation that page describes) and against the style rules: valid UTF-8,
laid out as json.dumps(value, indent=2) lays it out (strings aside).
With NAME "info-chain" the output is an array of "info" objects.
Prints what is wrong; exits 0 if nothing is."""
import json
import re
import sys

TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bytes": lambda v: TYPES["integer"](v) and v >= 0,
    "count": lambda v: TYPES["integer"](v) and v >= 0,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "path": lambda v: isinstance(v, str) and v.startswith("/")
    and "/../" not in v and not v.endswith("/.."),
    "hex8": lambda v: isinstance(v, str)
    and re.fullmatch(r"[0-9a-f]{8}", v) is not None,
}


def schemas(doc):
    text = open(doc, encoding="utf-8").read()
    return {m.group(1): json.loads(m.group(2)) for m in re.finditer(
        r"```json schema=([a-z-]+)\n(.*?)```", text, re.S)}


def check(value, schema, where, errors):
    if isinstance(schema, str):
        for alt in schema.split("|"):
            if alt.startswith("="):
                if value == alt[1:]:
                    return
            elif TYPES[alt](value):
                return
        errors.append("%s: %r is not %s" % (where, value, schema))
    elif isinstance(schema, list):
        if not isinstance(value, list):
            errors.append("%s: %r is not an array" % (where, value))
            return
        for i, v in enumerate(value):
            check(v, schema[0], "%s[%d]" % (where, i), errors)
    elif "$or_null" in schema:
        if value is not None:
            check(value, schema["$or_null"], where, errors)
    else:
        if not isinstance(value, dict):
            errors.append("%s: %r is not an object" % (where, value))
            return
        for k in sorted(set(schema) - set(value)):
            errors.append("%s: key %r is missing" % (where, k))
        for k in sorted(set(value) - set(schema)):
            errors.append("%s: key %r is not in the schema" % (where, k))
        for k in sorted(set(schema) & set(value)):
            check(value[k], schema[k], "%s.%s" % (where, k), errors)


def main():
    doc, name, path = sys.argv[1:4]
    all_schemas = schemas(doc)
    schema = ([all_schemas["info"]] if name == "info-chain"
              else all_schemas.get(name))
    if schema is None:
        print("no schema %r in %s" % (name, doc))
        return 1
    raw = open(path, "rb").read()
    errors = []
    try:
        text = raw.decode("utf-8")
        value = json.loads(text)
    except ValueError as e:
        print("%s: not valid UTF-8 JSON: %s" % (name, e))
        return 1
    # The layout, strings aside (how a string escapes a character is the
    # escaper's business, as long as it is valid JSON and UTF-8).
    blank = re.compile(r'"(?:[^"\\]|\\.)*"')
    if (blank.sub('""', text) != blank.sub(
            '""', json.dumps(value, indent=2, ensure_ascii=False) + "\n")):
        errors.append("not in the one style (indent 2, one member a line)")
    check(value, schema, name, errors)
    for e in errors[:20]:
        print(e)
    return 1 if errors else 0


sys.exit(main())
