"""The project's shared package: the backend contract, upload handling and the backend server.

Not to be confused with ``../shared`` beside the repository (notes, hooks), which is not part of the
project.
"""
