"""Data standard: the data pool and the government sharing classes of datasets."""
