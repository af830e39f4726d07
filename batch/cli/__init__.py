"""The `batch` console script: one module per command, `main.py` groups them."""
