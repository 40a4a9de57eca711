"""Everything that touches the index and files: connect and initialise, sources to eo3, load, write, models."""
