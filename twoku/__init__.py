"""twoku — the two libraries (两库) of medical-insurance fund intelligent audit and monitoring."""

__version__ = "0.1.0"
