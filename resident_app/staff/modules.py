"""Imports every staff route module so their routes register on the blueprint."""
