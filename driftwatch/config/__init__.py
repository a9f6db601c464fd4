"""Configuration: the file format, its validation, and the quick target flags."""
