"""Staff-facing HTTP: the dependencies every route shares, the staff JSON API and the staff pages."""
