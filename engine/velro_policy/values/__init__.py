"""Leaf parsers of values (CSP, rate strings, origins, secret quality, masking, environments, regexes, selectors): stdlib only, import nothing but ``model``."""
