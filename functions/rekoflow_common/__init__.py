"""Code shared by the rekoflow Lambda functions: configuration, clients, image checks, results, errors.

Packaged into every function's zip next to the function's own package (see ``make build``).
"""
