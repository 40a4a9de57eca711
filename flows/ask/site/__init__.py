"""The distribution site mounted in `snowland serve`: the products' files over HTTP (ranges, sizes, SHA-256),
STAC asset links rewritten to them, and (for people) accounts, a search page, a cart and Metalink orders."""
