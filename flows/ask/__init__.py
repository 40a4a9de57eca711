"""Answers for people: ad-hoc queries, the free-text catalogue, pictures and the web server."""
