"""HTTP endpoints, one module per resource; each view's spec text is in ``api.apidocs``."""
