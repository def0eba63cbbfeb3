"""lambdalint: what your AWS Lambda handlers will do to you in production."""

__version__ = "0.1.0"
