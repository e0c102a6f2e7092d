"""Early-warning detectors: one interface (``base``), one registry of methods (``registry``)."""
