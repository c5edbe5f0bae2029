"""Integrations of matdiff-tex into site generators (optional dependencies, imported on demand)."""
