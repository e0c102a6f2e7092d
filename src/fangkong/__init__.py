"""fangkong (防控): an epidemic prevention-and-control command platform for regional health authorities."""

__version__ = "0.1.0"
