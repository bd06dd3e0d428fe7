"""Seeing results: evolution metrics (paper Tables 2 and 3) and design export. Reads the store and records only."""
